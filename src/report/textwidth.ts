/**
 * Text widths for Vega's layout in Node. Without a canvas Vega guesses 0.8 em per
 * character, which is far too wide for proportional fonts: a long axis title then pads the
 * figure with a wide empty margin, and labels are dropped as overlapping when they are not.
 * The plots ask for Helvetica (Arial has the same widths); these are its advance widths
 * (Adobe's published metrics, 1/1000 em, printable ASCII). Text is taken 10 % wider, the
 * difference to DejaVu Sans, where a system without Helvetica or Arial falls back to it.
 */
import * as vega from 'vega';

// Printable ASCII from the space (32) to the tilde (126).
const REGULAR = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611,
  611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
/** Superscript digits and minus (axis labels), and any other character: a digit's width. */
const SUPERSCRIPT = /[\u2070-\u209f\u00b9\u00b2\u00b3]/;
const FALLBACK_SLACK = 1.1;

export function textWidth(text: string, fontSize: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let w = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 32 && code <= 126) w += table[code - 32];
    else if (SUPERSCRIPT.test(ch)) w += 370;
    else w += 556;
  }
  return (w / 1000) * fontSize * FALLBACK_SLACK;
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

let installed = false;

/** Makes Vega lay text out with these widths (its documented hook for a measure of one's own). */
export function useTextWidths(): void {
  if (installed) return;
  installed = true;
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const weight = item.fontWeight;
    const bold = weight === 'bold' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && Number(weight) >= 600);
    return textWidth(text == null ? '' : String(text).trim(), size, bold);
  };
}
