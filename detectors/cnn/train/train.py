#!/usr/bin/python3
"""Train the ssbench CNN stepping-stone detector and export it to ONNX.

A small DeepCorr-style convolutional network (Nasr, Bahramali, Houmansadr, CCS 2018)
that scores an (incoming, outgoing) connection pair from the [8, L] feature matrix
written by `npm run export`. See README.md next to this file for the data contract,
the architecture and the outputs.

Run with Debian's Python (apt-get install python3-torch python3-numpy):

    /usr/bin/python3 detectors/cnn/train/train.py --data data/cnn --out detectors/cnn
"""

import argparse
import copy
import io
import json
import os
import random
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(
        "error: %s\n"
        "train.py needs Debian's PyTorch and NumPy: "
        "apt-get install -y python3-torch python3-numpy, then run it with /usr/bin/python3"
        % e
    )

N_ROWS = 8          # 4 features x (incoming, outgoing)
OPSET = 13
INPUT_NAME = "flows"
OUTPUT_NAME = "logit"
N_CHECK = 32        # samples in check_inputs.npy / check_logits.npy
STD_FLOOR = 1e-6


class TrainError(Exception):
    """A problem with the inputs; reported as a one-line error, no traceback."""


# --------------------------------------------------------------------------- model


class PairCNN(nn.Module):
    """DeepCorr-like CNN over the raw [batch, 8, L] features; returns [batch] logits.

    Standardisation is part of the model: the ONNX graph takes the raw features.
    Conv 1 (kernel height 2, stride 2) sees one (incoming, outgoing) row pair at a time;
    conv 2 (kernel height 4, stride 4) mixes the four features.
    """

    def __init__(self, length, mean, std, c1, w1, p1, c2, w2, p2, d1, d2, dropout):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(N_ROWS))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(N_ROWS))
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=(2, w1), stride=(2, 1)),
            nn.ReLU(),
            nn.MaxPool2d((1, p1)),
            nn.Conv2d(c1, c2, kernel_size=(4, w2), stride=(4, 1)),
            nn.ReLU(),
            nn.MaxPool2d((1, p2)),
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, N_ROWS, length)).flatten(1).shape[1]
        self.n_flat = int(n_flat)
        self.classifier = nn.Sequential(
            nn.Linear(self.n_flat, d1),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d1, d2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d2, 1),
        )

    def forward(self, x):
        x = (x - self.mean[:, None]) / self.std[:, None]
        x = self.features(x.unsqueeze(1))
        return self.classifier(x.flatten(1)).squeeze(1)


def feature_length_after(length, a):
    """Width after the conv/pool stack, or a value < 1 when `length` is too short."""
    n = length - a.w1 + 1
    if n < a.p1:
        return 0
    n = n // a.p1 - a.w2 + 1
    if n < a.p2:
        return 0
    return n // a.p2


def min_length(a):
    length = 1
    while feature_length_after(length, a) < 1:
        length += 1
    return length


def count_macs(model, length):
    """Multiply-accumulates per sample in the conv and linear layers."""
    macs = [0]

    def conv_hook(m, inp, out):
        k = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        macs[0] += out[0].numel() * k

    def linear_hook(m, inp, out):
        macs[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, N_ROWS, length))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return macs[0]


# --------------------------------------------------------------------------- metrics


def roc_auc(scores, labels):
    """ROC AUC via the Mann-Whitney U statistic; ties count one half."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels) > 0.5
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(s.size, dtype=np.float64)
    # average 1-based ranks over runs of equal scores
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], s.size]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


# --------------------------------------------------------------------------- data


def load_array(path, what):
    if not os.path.isfile(path):
        raise TrainError("missing %s: %s (run `npm run export` first)" % (what, path))
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:
        raise TrainError("cannot read %s %s: %s" % (what, path, e))
    if a.dtype != np.float32:
        raise TrainError("%s %s has dtype %s, expected float32" % (what, path, a.dtype))
    return np.ascontiguousarray(a)


def load_split(data_dir, split):
    xp = os.path.join(data_dir, "%s_X.npy" % split)
    yp = os.path.join(data_dir, "%s_y.npy" % split)
    x = load_array(xp, "%s features" % split)
    y = load_array(yp, "%s labels" % split)
    if x.ndim != 3 or x.shape[1] != N_ROWS:
        raise TrainError("%s has shape %s, expected [N, %d, L]" % (xp, list(x.shape), N_ROWS))
    if y.ndim != 1:
        raise TrainError("%s has shape %s, expected [N]" % (yp, list(y.shape)))
    if x.shape[0] != y.shape[0]:
        raise TrainError(
            "shape mismatch: %s has %d samples but %s has %d labels"
            % (xp, x.shape[0], yp, y.shape[0])
        )
    if x.shape[0] == 0:
        raise TrainError("%s has no samples" % xp)
    if not np.all((y == 0.0) | (y == 1.0)):
        raise TrainError("%s must hold only 0.0 and 1.0" % yp)
    if not np.all(np.isfinite(x)):
        raise TrainError("%s holds NaN or infinite values" % xp)
    return x, y


def load_meta(data_dir):
    path = os.path.join(data_dir, "meta.json")
    if not os.path.isfile(path):
        raise TrainError("missing %s (run `npm run export` first)" % path)
    try:
        with open(path, "r", encoding="utf-8") as f:
            meta = json.load(f)
    except Exception as e:
        raise TrainError("cannot parse %s: %s" % (path, e))
    layout = meta.get("layout") if isinstance(meta, dict) else None
    if not isinstance(layout, dict) or "name" not in layout:
        raise TrainError('%s has no "layout" object with a "name"' % path)
    return meta


def class_counts(y):
    pos = int((y > 0.5).sum())
    return {"n": int(y.size), "positives": pos, "negatives": int(y.size) - pos}


def row_stats(x, chunk=4096):
    """Per-row mean and std over samples and positions (float64 accumulation)."""
    n, r, length = x.shape
    total = np.zeros(r)
    for i in range(0, n, chunk):
        total += x[i:i + chunk].sum(axis=(0, 2), dtype=np.float64)
    mean = total / (n * length)
    sq = np.zeros(r)
    for i in range(0, n, chunk):
        d = x[i:i + chunk].astype(np.float64) - mean[None, :, None]
        sq += (d * d).sum(axis=(0, 2))
    std = np.maximum(np.sqrt(sq / (n * length)), STD_FLOOR)
    return mean, std


# --------------------------------------------------------------------------- training


def evaluate(model, x, y, criterion, batch):
    """Mean loss and logits (float32 numpy) over a whole split, eval mode."""
    model.eval()
    logits = []
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            xb = x[i:i + batch]
            out = model(xb)
            loss_sum += float(criterion(out, y[i:i + batch])) * xb.shape[0]
            logits.append(out)
    out = torch.cat(logits).numpy()
    return loss_sum / x.shape[0], out


def export_onnx(model, length, path):
    model.eval()
    dummy = torch.zeros(2, N_ROWS, length)
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        dummy,
        buf,
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
    )
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def finite_or_null(v):
    """JSON has no NaN/Infinity: a diverged loss is written as null."""
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: finite_or_null(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite_or_null(x) for x in v]
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train the ssbench CNN pair detector and export model.onnx.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", required=True, help="folder written by `npm run export`")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--epochs", type=int, default=20, help="training epochs")
    p.add_argument("--batch", type=int, default=128, help="training batch size")
    p.add_argument("--lr", type=float, default=0.002, help="Adam learning rate, halved every 10 epochs")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="Adam weight decay")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--max-train", type=int, default=None,
                   help="use only N training samples, a seeded random subset (smoke tests)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    g = p.add_argument_group("architecture")
    g.add_argument("--c1", type=int, default=32, help="conv 1 channels")
    g.add_argument("--w1", type=int, default=10, help="conv 1 kernel width")
    g.add_argument("--p1", type=int, default=3, help="pool 1 width")
    g.add_argument("--c2", type=int, default=32, help="conv 2 channels")
    g.add_argument("--w2", type=int, default=5, help="conv 2 kernel width")
    g.add_argument("--p2", type=int, default=2, help="pool 2 width")
    g.add_argument("--dense1", type=int, default=64, help="first dense layer width")
    g.add_argument("--dense2", type=int, default=16, help="second dense layer width")
    g.add_argument("--dropout", type=float, default=0.2, help="dropout after the dense layers")
    a = p.parse_args(argv)
    for name in ("epochs", "batch", "threads", "c1", "w1", "p1", "c2", "w2", "p2",
                 "dense1", "dense2"):
        if getattr(a, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    if a.max_train is not None and a.max_train < 1:
        p.error("--max-train must be at least 1")
    if not 0.0 <= a.dropout < 1.0:
        p.error("--dropout must be in [0, 1)")
    if a.lr <= 0:
        p.error("--lr must be positive")
    return a


def seed_everything(seed, threads):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # pragma: no cover - old torch
        print("warning: deterministic algorithms unavailable: %s" % e, file=sys.stderr)


def train(a):
    seed_everything(a.seed, a.threads)

    if not os.path.isdir(a.data):
        raise TrainError("data folder %s does not exist (run `npm run export` first)" % a.data)
    meta = load_meta(a.data)
    x_tr, y_tr = load_split(a.data, "train")
    x_va, y_va = load_split(a.data, "val")
    if x_va.shape[2] != x_tr.shape[2]:
        raise TrainError(
            "shape mismatch: train L=%d but val L=%d" % (x_tr.shape[2], x_va.shape[2])
        )
    length = int(x_tr.shape[2])
    need = min_length(a)
    if length < need:
        raise TrainError(
            "L=%d is too short for the architecture (w1=%d, p1=%d, w2=%d, p2=%d): "
            "the minimum L is %d" % (length, a.w1, a.p1, a.w2, a.p2, need)
        )
    if a.max_train is not None and a.max_train < x_tr.shape[0]:
        # A seeded subset in file order, not the first N rows: the export writes all
        # positives before the negatives, so the first N would hold one class only.
        keep = np.sort(np.random.default_rng(a.seed).permutation(x_tr.shape[0])[:a.max_train])
        x_tr, y_tr = np.ascontiguousarray(x_tr[keep]), np.ascontiguousarray(y_tr[keep])
    tr_counts, va_counts = class_counts(y_tr), class_counts(y_va)
    if tr_counts["positives"] == 0 or tr_counts["negatives"] == 0:
        raise TrainError(
            "the training samples need both classes (positives=%d, negatives=%d)"
            % (tr_counts["positives"], tr_counts["negatives"])
        )
    if va_counts["positives"] == 0 or va_counts["negatives"] == 0:
        raise TrainError(
            "the validation samples need both classes (positives=%d, negatives=%d)"
            % (va_counts["positives"], va_counts["negatives"])
        )

    mean, std = row_stats(x_tr)
    model = PairCNN(length, mean, std, a.c1, a.w1, a.p1, a.c2, a.w2, a.p2,
                    a.dense1, a.dense2, a.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model, length)
    pos_weight = tr_counts["negatives"] / tr_counts["positives"]
    print(
        "data %s: layout %s, L=%d, train %d (%d pos), val %d (%d pos)"
        % (a.data, meta["layout"].get("name"), length, tr_counts["n"],
           tr_counts["positives"], va_counts["n"], va_counts["positives"])
    )
    print("model: %d parameters, %d MACs per sample, flatten %d, pos_weight %.4g"
          % (n_params, macs, model.n_flat, pos_weight))

    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    xv, yv = torch.from_numpy(x_va), torch.from_numpy(y_va)
    criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    gen = torch.Generator().manual_seed(a.seed)

    history = []
    best_auc, best_loss, best_epoch, best_state = -1.0, float("inf"), 0, None
    t_start = time.perf_counter()
    train_seconds = 0.0
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        model.train()
        perm = torch.randperm(xt.shape[0], generator=gen)
        loss_sum = 0.0
        for i in range(0, xt.shape[0], a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = criterion(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            loss_sum += float(loss) * idx.shape[0]
        sched.step()
        train_loss = loss_sum / xt.shape[0]
        train_seconds += time.perf_counter() - t0
        val_loss, val_logits = evaluate(model, xv, yv, criterion, 1024)
        val_auc = roc_auc(val_logits, y_va)
        history.append({"epoch": epoch, "lr": lr, "train_loss": train_loss,
                        "val_loss": val_loss, "val_auc": val_auc})
        # best val AUC; on a tie (e.g. AUC 1.0 on easy data) the lower val loss
        better = val_auc > best_auc or (val_auc == best_auc and val_loss < best_loss)
        if better:
            best_auc, best_loss, best_epoch = val_auc, val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        print("epoch %3d  lr %.2e  train loss %.4f  val loss %.4f  val AUC %.4f  %6.1fs%s"
              % (epoch, lr, train_loss, val_loss, val_auc,
                 time.perf_counter() - t_start, "  *" if better else ""))
        sys.stdout.flush()

    if best_state is None:
        raise TrainError("training diverged: no epoch gave a finite validation AUC")
    model.load_state_dict(best_state)
    model.eval()
    _, val_logits = evaluate(model, xv, yv, criterion, 1024)
    final_auc = roc_auc(val_logits, y_va)
    print("best epoch %d, val AUC %.4f; training %.0f samples/s"
          % (best_epoch, final_auc, a.epochs * xt.shape[0] / max(train_seconds, 1e-9)))

    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, "model.onnx")
    export_onnx(model, length, onnx_path)

    n_check = min(N_CHECK, x_va.shape[0])
    # Evenly spaced over the validation set, so both classes are checked whatever its order.
    check_rows = np.linspace(0, x_va.shape[0] - 1, n_check).astype(np.int64)
    check_x = np.ascontiguousarray(x_va[check_rows], dtype=np.float32)
    with torch.no_grad():
        check_logits = model(torch.from_numpy(check_x)).numpy().astype(np.float32)
    np.save(os.path.join(a.out, "check_inputs.npy"), check_x)
    np.save(os.path.join(a.out, "check_logits.npy"), check_logits)

    record = {
        "layout": meta["layout"],
        "model": {
            "file": "model.onnx",
            "opset": OPSET,
            "input": {"name": INPUT_NAME, "shape": ["batch", N_ROWS, length], "dtype": "float32"},
            "output": {"name": OUTPUT_NAME, "shape": ["batch"], "dtype": "float32",
                       "meaning": "logit; higher = more likely a relayed pair"},
            "standardisation": {"mean": [float(v) for v in mean],
                                "std": [float(v) for v in std]},
        },
        "arch": {
            "L": length, "min_L": need,
            "c1": a.c1, "w1": a.w1, "p1": a.p1,
            "c2": a.c2, "w2": a.w2, "p2": a.p2,
            "dense1": a.dense1, "dense2": a.dense2, "dropout": a.dropout,
            "flatten": model.n_flat, "parameters": int(n_params), "macs_per_sample": int(macs),
        },
        "training": {
            "epochs": a.epochs, "seed": a.seed, "lr": a.lr, "lr_schedule": "halved every 10 epochs",
            "weight_decay": a.weight_decay, "batch": a.batch, "threads": a.threads,
            "max_train": a.max_train, "optimizer": "Adam",
            "loss": "BCEWithLogitsLoss", "pos_weight": pos_weight,
        },
        "train": tr_counts,
        "val": va_counts,
        "history": history,
        "best_epoch": best_epoch,
        "final_val_auc": final_auc,
        "check": {"inputs": "check_inputs.npy", "logits": "check_logits.npy", "n": n_check},
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
    }
    with open(os.path.join(a.out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(finite_or_null(record), f, indent=2, allow_nan=False)
        f.write("\n")
    print("wrote %s, training.json, check_inputs.npy, check_logits.npy in %s"
          % (os.path.basename(onnx_path), a.out))


def main(argv=None):
    a = parse_args(argv)
    try:
        train(a)
    except TrainError as e:
        sys.exit("error: %s" % e)


if __name__ == "__main__":
    main()
