"""Trains the PyTorch twin (../shared/peers/torch_model.py) with this project's recipe, for a
side-by-side accuracy comparison with `deno task train` on the same split and time budget.

The recipe mirrors model/trainer.ts: per-modality z-score over non-zero voxels, windows of --seq
consecutive slices, phase 1 on tumour windows with median-frequency-balanced weights, phase 2 on
all windows (a seeded --empty-skip fraction of all-empty ones skipped each epoch) with the
unweighted loss at --lr2, Adam, random flips and per-modality intensity scale/shift, validation
Dice after every epoch (windowed inference from a fresh convLSTM state, like `segment`), the best
epoch kept. The budget counts from the start of training and is checked before every batch.
Predictions for --test are written as <id>.nii.gz so `deno task eval` scores both the same way.

usage:
  /usr/bin/python3 bench/torch_twin_train.py TRAIN VAL --test DIR --pred OUT [options]
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


def batch_of(cases, picks, seq, rng, augment):
    xs, ys = [], []
    for ci, s in picks:
        x = cases[ci]["image"][s:s + seq].clone()
        y = cases[ci]["classes"][s:s + seq].clone()
        if augment:
            if rng.random() < 0.5:
                x, y = x.flip(-1), y.flip(-1)
            if rng.random() < 0.5:
                x, y = x.flip(-2), y.flip(-2)
            scale = torch.from_numpy(1 + 0.1 * (2 * rng.random(4) - 1)).float().view(1, 4, 1, 1)
            shift = torch.from_numpy(0.1 * (2 * rng.random(4) - 1)).float().view(1, 4, 1, 1)
            x = torch.where(x != 0, x * scale + shift, x)
        xs.append(x)
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


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
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--phase2-epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--lr2", type=float, default=0.001)
    ap.add_argument("--empty-skip", type=float, default=0.7)
    ap.add_argument("--time-budget", type=float, default=1780)
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
    schedule = [1] * args.epochs + [2] * args.phase2_epochs
    for epoch, phase in enumerate(schedule, 1):
        if phase == 2 and (epoch == 1 or schedule[epoch - 2] == 1):
            for g in opt.param_groups:
                g["lr"] = args.lr2
        picks = windows(train, args.seq, phase, rng, args.empty_skip)
        model.train()
        losses, partial = [], False
        for b in range(0, len(picks), args.batch):
            if time.perf_counter() - t0 > args.time_budget:
                partial = True
                break
            x, y = batch_of(train, picks[b:b + args.batch], args.seq, rng, not args.no_augment)
            logits = model(x)  # N,T,K,H,W
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(0, 1),
                                   weight=weights if phase == 1 else None)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            steps += 1
        scores = np.mean([dice(predict(model, c, args.seq), c["classes"]) for c in val], axis=0)
        if scores.mean() > best_score:
            best_score = scores.mean()
            best = {k: v.clone() for k, v in model.state_dict().items()}
        print(json.dumps({"epoch": epoch, "phase": phase, "partial": partial, "batches": len(losses),
                          "loss": float(np.mean(losses)) if losses else None,
                          "dice": [round(float(s), 4) for s in scores],
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
        if partial:
            break

    model.load_state_dict(best)
    os.makedirs(args.pred, exist_ok=True)
    test = load_folder(args.test)
    for c in test:
        labels = np.asarray(LABELS, np.uint8)[predict(model, c, args.seq).numpy()]
        img = nib.Nifti1Image(labels.transpose(2, 1, 0), c["affine"], c["header"])
        img.set_data_dtype(np.uint8)
        nib.save(img, os.path.join(args.pred, c["id"] + ".nii.gz"))
    print(json.dumps({"steps": steps, "seconds": round(time.perf_counter() - t0, 1),
                      "best_val_dice": round(float(best_score), 4), "predicted": len(test)}), flush=True)


if __name__ == "__main__":
    main()
