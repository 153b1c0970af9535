"""Trains the PyTorch twin (../shared/peers/torch_model.py) with this project's recipe, for a
side-by-side accuracy comparison with `deno task train` on the same split and time budget.

The recipe mirrors `deno task train`'s defaults (train/): per-modality z-score over non-zero
voxels, windows of --seq consecutive slices cropped to --patch × --patch (a third of the crops
centred on a tumour voxel; whole slices when the patch covers them), phase 1 on tumour windows
with median-frequency-balanced cross-entropy, phase 2 on all windows (a seeded --empty-skip
fraction of all-empty ones skipped each epoch) with the unweighted loss at --lr2, plus --dice ×
the soft Dice loss in both phases, Adam, a cosine decay to a tenth within each phase, and nnU-Net's
augmentations that torch does in a few lines (rotation, scaling, mirroring, gamma, brightness,
contrast, Gaussian noise, with train/augment_settings.ts's probabilities and ranges; not blur or
simulated low resolution). With --time-budget the epochs of both phases are fitted, in the ratio
--epochs:--phase2-epochs, to the time left after every epoch from that epoch's throughput and
validation time (as `train --time-budget` re-plans). Validation Dice after every epoch (windowed
inference from a fresh convLSTM state, like `segment`), the best epoch kept.
Predictions for --test are written as <id>.nii.gz so `deno task eval` scores both the same way.

usage:
  /usr/bin/python3 bench/torch_twin_train.py TRAIN VAL --test DIR[,DIR...] --pred OUT [options]
(several test folders: predictions under OUT/<folder name>/)
(needs Debian's python3-torch and python3-nibabel; prints one JSON line per epoch)
"""
import argparse, glob, json, os, sys, time

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "peers"))
import torch_model  # noqa: E402

MODALITIES = ("flair", "t1", "t1ce", "t2")
LABELS = (0, 1, 2, 4)  # BraTS 2017 label values, class index = position


def load_case(folder):
    cid = os.path.basename(folder.rstrip("/"))
    image = []
    for m in MODALITIES:
        v = np.asarray(nib.load(os.path.join(folder, f"{cid}_{m}.nii.gz")).get_fdata(), np.float64)
        nz = v != 0
        mean, std = v[nz].mean(), v[nz].std()
        image.append(np.where(nz, (v - mean) / (std if std > 1e-12 else 1.0), 0.0))
    seg_img = nib.load(os.path.join(folder, f"{cid}_seg.nii.gz"))
    seg = np.asarray(seg_img.dataobj).astype(np.int64)
    classes = np.zeros(seg.shape, np.int64)
    for k, value in enumerate(LABELS):
        classes[seg == value] = k
    # [x, y, z] -> [z, modality, y, x] and [z, y, x]
    image = np.stack(image).transpose(3, 0, 2, 1).astype(np.float32)
    return {"id": cid, "image": torch.from_numpy(np.ascontiguousarray(image)),
            "classes": torch.from_numpy(np.ascontiguousarray(classes.transpose(2, 1, 0))),
            "affine": seg_img.affine, "header": seg_img.header}


def load_folder(root):
    folders = sorted(f for f in glob.glob(os.path.join(root, "*")) if os.path.isdir(f))
    if not folders:
        sys.exit(f"{root}: no case folders")
    return [load_case(f) for f in folders]


def mfb_weights(cases, k):
    """alpha_c = median_freq / freq(c); freq(c) = pixels of c / pixels of the slices holding c."""
    pixels, present = np.zeros(k), np.zeros(k)
    for c in cases:
        for z in range(c["classes"].shape[0]):
            counts = np.bincount(c["classes"][z].numpy().ravel(), minlength=k)
            pixels += counts
            present += np.where(counts > 0, counts.sum(), 0)
    freq = np.where(pixels > 0, pixels / np.maximum(present, 1), 0)
    median = np.median(freq[freq > 0])
    return torch.tensor(np.where(freq > 0, median / np.maximum(freq, 1e-30), 1), dtype=torch.float32)


def windows(cases, seq, phase, rng, empty_skip):
    out = []
    for ci, c in enumerate(cases):
        tumour = (c["classes"].flatten(1) > 0).any(1)
        for s in range(c["classes"].shape[0] - seq + 1):
            has = bool(tumour[s:s + seq].any())
            if phase == 1 and not has:
                continue
            if phase == 2 and not has and rng.random() < empty_skip:
                continue
            out.append((ci, s))
    rng.shuffle(out)
    return out


def crop(x, y, patch, rng, tumour_share):
    """A patch x patch crop of a window (every slice alike); a share centred on a tumour voxel."""
    h, w = y.shape[-2:]
    if patch <= 0 or (patch >= h and patch >= w):
        return x, y
    ph, pw = min(patch, h), min(patch, w)
    where = torch.nonzero(y > 0)
    if len(where) and rng.random() < tumour_share:
        _, cy, cx = where[rng.integers(len(where))].tolist()
        top, left = min(max(cy - ph // 2, 0), h - ph), min(max(cx - pw // 2, 0), w - pw)
    else:
        top, left = int(rng.integers(h - ph + 1)), int(rng.integers(w - pw + 1))
    return x[..., top:top + ph, left:left + pw], y[..., top:top + ph, left:left + pw]


def spatial(x, y, rng):
    """Rotation (p 0.2, +-180 deg) and scaling (p 0.2, 0.7-1.4), one transform for the window."""
    angle = np.radians(rng.uniform(-180, 180)) if rng.random() < 0.2 else 0.0
    zoom = rng.uniform(0.7, 1.4) if rng.random() < 0.2 else 1.0
    if angle == 0.0 and zoom == 1.0:
        return x, y
    c, s = np.cos(angle) / zoom, np.sin(angle) / zoom
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=torch.float32)
    theta = theta.unsqueeze(0).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    y = F.grid_sample(y.unsqueeze(1).float(), grid, mode="nearest", padding_mode="zeros",
                      align_corners=False).squeeze(1).long()
    return x, y


def intensity(x, rng):
    """Per modality, on brain voxels: gamma (p 0.3, 0.7-1.5, inverted p 0.1, mean and deviation
    kept), brightness (p 0.15, x0.75-1.25), contrast (p 0.15, 0.75-1.25, clipped), noise (p 0.1,
    variance 0-0.1)."""
    for m in range(x.shape[1]):
        v = x[:, m]
        brain = v != 0
        if not brain.any():
            continue
        b = v[brain]
        if rng.random() < 0.3:
            sign = -1.0 if rng.random() < 0.1 else 1.0
            # Population deviation: a patch can hold a single brain voxel (sample std: NaN).
            mean, std = b.mean(), b.std(unbiased=False)
            t = sign * b
            lo, hi = t.min(), t.max()
            t = ((t - lo) / max(float(hi - lo), 1e-7)) ** rng.uniform(0.7, 1.5) * (hi - lo) + lo
            t = sign * t
            b = (t - t.mean()) / max(float(t.std(unbiased=False)), 1e-7) * std + mean
        if rng.random() < 0.15:
            b = b * rng.uniform(0.75, 1.25)
        if rng.random() < 0.15:
            lo, hi, mean = b.min(), b.max(), b.mean()
            b = ((b - mean) * rng.uniform(0.75, 1.25) + mean).clamp(lo, hi)
        if rng.random() < 0.1:
            b = b + torch.randn(b.shape) * float(np.sqrt(rng.uniform(0, 0.1)))
        v[brain] = b
    return x


def batch_of(cases, picks, seq, rng, augment, patch, tumour_share=1 / 3):
    xs, ys = [], []
    for ci, s in picks:
        x = cases[ci]["image"][s:s + seq].clone()
        y = cases[ci]["classes"][s:s + seq].clone()
        x, y = crop(x, y, patch, rng, tumour_share)
        if augment:
            x, y = spatial(x, y, rng)
            if rng.random() < 0.5:
                x, y = x.flip(-1), y.flip(-1)
            if rng.random() < 0.5:
                x, y = x.flip(-2), y.flip(-2)
            x = intensity(x.contiguous(), rng)
        xs.append(x)
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


def soft_dice(logits, y, k):
    """1 - mean over foreground classes of (2 I + 1) / (S + 1) over the batch (gpu/ops/soft_dice.ts)."""
    p = logits.softmax(1)
    onehot = F.one_hot(y, k).permute(0, 3, 1, 2).float()
    inter = (p * onehot).sum((0, 2, 3))
    size = p.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    return 1 - ((2 * inter[1:] + 1) / (size[1:] + 1)).mean()


def cosine_lr(peak, index, count, fraction):
    t = min(1.0, max(0.0, (index + fraction) / count))
    return peak * (0.1 + 0.9 * (1 + np.cos(np.pi * t)) / 2)


def fit_epochs(ratio, windows_per_epoch, wps, val_s, left):
    """Epochs of each phase, in the ratio, that fit `left` seconds (at least one each)."""
    per_unit = sum(r * (n / wps + val_s) for r, n in zip(ratio, windows_per_epoch)) / sum(ratio)
    units = left / per_unit
    return [max(1, int(round(r * units / sum(ratio)))) for r in ratio]


def replan(counts, done, ratio, per_epoch, wps, val_s, left):
    """Epochs of each phase after `done` epochs so that the rest fits `left` seconds: in phase 1
    the remaining epochs of both phases keep the ratio; in phase 2 only phase 2's count moves."""
    cost = [n / wps + val_s for n in per_epoch]
    if done < counts[0]:
        total = fit_epochs(ratio, per_epoch, wps, val_s, left + done * cost[0])
        return [max(done, total[0]), max(1, total[1])]
    done2 = done - counts[0]
    return [counts[0], max(1, done2 + int(left // cost[1]))]


@torch.no_grad()
def predict(model, case, seq):
    """Windowed inference: windows of seq slices, each from a fresh convLSTM state."""
    model.eval()
    image = case["image"]
    out = []
    for s in range(0, image.shape[0], seq):
        out.append(model(image[s:s + seq].unsqueeze(0))[0].argmax(1))
    return torch.cat(out)


def dice(pred, truth):
    regions = (lambda c: c > 0, lambda c: (c == 1) | (c == 3), lambda c: c == 3)
    out = []
    for r in regions:
        p, t = r(pred), r(truth)
        n = int(p.sum()) + int(t.sum())
        out.append(1.0 if n == 0 else 2 * int((p & t).sum()) / n)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("train")
    ap.add_argument("val")
    ap.add_argument("--test", required=True)
    ap.add_argument("--pred", required=True)
    ap.add_argument("--widths", default="8,16,32,32")
    ap.add_argument("--seq", type=int, default=3)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--phase2-epochs", type=int, default=8)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--dice", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--lr2", type=float, default=0.001)
    ap.add_argument("--empty-skip", type=float, default=0.7)
    ap.add_argument("--time-budget", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-augment", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    torch_model.N_CLS = len(LABELS)  # the twin's head is sized from this global
    model = torch_model.CMCNet([int(w) for w in args.widths.split(",")])
    train, val = load_folder(args.train), load_folder(args.val)
    weights = mfb_weights(train, len(LABELS))
    print(json.dumps({"train": len(train), "val": len(val), "params": torch_model.param_count(model),
                      "class_weights": [round(float(w), 3) for w in weights]}), flush=True)

    t0 = time.perf_counter()
    best, best_score = None, -1.0
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = 0
    counts = [args.epochs, args.phase2_epochs]
    epoch, n_cls = 0, len(LABELS)
    while epoch < sum(counts):
        phase = 1 if epoch < counts[0] else 2
        index, count = (epoch, counts[0]) if phase == 1 else (epoch - counts[0], counts[1])
        picks = windows(train, args.seq, phase, rng, args.empty_skip)
        model.train()
        losses, e0 = [], time.perf_counter()
        for b in range(0, len(picks), args.batch):
            for g in opt.param_groups:
                g["lr"] = cosine_lr(args.lr if phase == 1 else args.lr2, index, count, b / len(picks))
            x, y = batch_of(train, picks[b:b + args.batch], args.seq, rng, not args.no_augment,
                            args.patch)
            logits = model(x).flatten(0, 1)  # N·T,K,H,W
            target = y.flatten(0, 1)
            loss = F.cross_entropy(logits, target, weight=weights if phase == 1 else None)
            if args.dice > 0:
                loss = loss + args.dice * soft_dice(logits, target, n_cls)
            if not torch.isfinite(loss):  # as `train` does: a diverged run stops, it does not go on
                sys.exit(f"epoch {epoch + 1} batch {b // args.batch + 1}: loss {float(loss)}")
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            steps += 1
        train_s = time.perf_counter() - e0
        v0 = time.perf_counter()
        scores = np.mean([dice(predict(model, c, args.seq), c["classes"]) for c in val], axis=0)
        val_s = time.perf_counter() - v0
        epoch += 1
        if args.time_budget:
            # Re-planned after every epoch from the last epoch's throughput (as `train` re-plans):
            # the epochs left of both phases, in the ratio, fitted to the time left.
            tumour = len(windows(train, args.seq, 1, rng, 0))
            every = len(windows(train, args.seq, 2, np.random.default_rng(0), 0))
            per_epoch = [tumour, tumour + (every - tumour) * (1 - args.empty_skip)]
            wps = len(picks) / train_s
            left = args.time_budget - (time.perf_counter() - t0)
            counts = replan(counts, epoch, [args.epochs, args.phase2_epochs], per_epoch, wps, val_s,
                            left)
            print(json.dumps({"plan": counts, "windows_per_second": round(wps, 2),
                              "validation_seconds": round(val_s, 1)}), flush=True)
        if scores.mean() > best_score:
            best_score = scores.mean()
            best = {k: v.clone() for k, v in model.state_dict().items()}
        print(json.dumps({"epoch": epoch, "phase": phase, "batches": len(losses),
                          "loss": float(np.mean(losses)) if losses else None,
                          "dice": [round(float(s), 4) for s in scores],
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)

    model.load_state_dict(best)
    trained_s = time.perf_counter() - t0
    # Several test sets (comma-separated) go to PRED/<set folder name>/, one to PRED/.
    sets = args.test.split(",")
    predicted = 0
    for folder in sets:
        out = args.pred if len(sets) == 1 else os.path.join(args.pred, os.path.basename(folder.rstrip("/")))
        os.makedirs(out, exist_ok=True)
        for c in load_folder(folder):
            labels = np.asarray(LABELS, np.uint8)[predict(model, c, args.seq).numpy()]
            img = nib.Nifti1Image(labels.transpose(2, 1, 0), c["affine"], c["header"])
            img.set_data_dtype(np.uint8)
            nib.save(img, os.path.join(out, c["id"] + ".nii.gz"))
            predicted += 1
    print(json.dumps({"steps": steps, "seconds": round(trained_s, 1),
                      "best_val_dice": round(float(best_score), 4), "predicted": predicted}), flush=True)


if __name__ == "__main__":
    main()
