// What `train` shows: a progress line per batch, a line per epoch, and the closing summary.

import type { StepProgress, TrainOptions, TrainRecord, TrainResult } from "../train/trainer.ts";
import { trainingPaths } from "../train/trainer.ts";
import { formatDuration } from "./_progress.ts";

/** A record's validation Dice per region, e.g. `whole 0.912, core 0.801, enhancing 0.744`. */
function diceText(r: TrainRecord): string {
  return `whole ${r.dice.whole.toFixed(3)}, core ${r.dice.core.toFixed(3)}, enhancing ${
    r.dice.enhancing.toFixed(3)
  }`;
}

/** The trainer's callbacks for one display, and how to end it. */
export interface TrainDisplay {
  /** Spread into the trainer's options. */
  callbacks: Required<Pick<TrainOptions, "onStep" | "onEpoch" | "onLog">>;
  /** Removes a drawn progress line. */
  done: () => void;
}

/**
 * Progress display of one training run titled `title`: a redrawn line on a
 * terminal, else a plain line for the first batch, then every 30 s and at the
 * end of each epoch.
 *
 * @example
 * ```ts
 * import { trainDisplay } from "./_train_report.ts";
 * const display = trainDisplay("tiny");
 * display.callbacks.onLog("checkpoint written");
 * display.done();
 * ```
 */
export function trainDisplay(title: string): TrainDisplay {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastPlain = -Infinity; // the run's first batch is shown at once: a sign of life, and a mark for tests
  let drawn = false;
  const clear = () => {
    if (drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    drawn = false;
  };
  const onStep = (p: StepProgress) => {
    const text = `${title} | phase ${p.phase} epoch ${p.epoch}/${p.epochs} ` +
      `batch ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} (mean ${p.meanLoss.toFixed(4)}) ` +
      `${p.windowsPerSecond.toFixed(2)} windows/s ${formatDuration(p.seconds)}`;
    if (tty) {
      const width = 20, filled = Math.round(width * p.step / Math.max(1, p.steps));
      clear();
      Deno.stderr.writeSync(
        encoder.encode(`[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`),
      );
      drawn = true;
    } else if (p.seconds - lastPlain >= 30 || p.step === p.steps) {
      lastPlain = p.seconds;
      console.log(text);
    }
  };
  const onEpoch = (r: TrainRecord) => {
    clear();
    console.log(
      `epoch ${r.epoch} (phase ${r.phase}${r.partial ? ", partial" : ""}): loss ${
        r.loss.toFixed(4)
      }, ` +
        `validation Dice ${diceText(r)} [${formatDuration(r.seconds)}]`,
    );
  };
  const onLog = (message: string) => {
    clear();
    console.log(message);
  };
  return { callbacks: { onStep, onEpoch, onLog }, done: clear };
}

/**
 * The closing lines of a training run: why it ended, the best epoch, and
 * where the checkpoints and curves are.
 *
 * @example
 * ```ts
 * import { resultLines } from "./_train_report.ts";
 * const result = { best: null, stopped: "done", steps: 4, seconds: 2, curves: "m.curves.svg" } as const;
 * console.log(resultLines(result, "m.safetensors").join("\n"));
 * ```
 */
export function resultLines(
  result: Pick<TrainResult, "best" | "stopped" | "steps" | "seconds" | "curves">,
  out: string,
): string[] {
  const best = result.best;
  const ended = result.stopped === "done" ? "finished" : `stopped (${result.stopped})`;
  const bestText = best
    ? `epoch ${best.epoch}: Dice ${diceText(best)}`
    : "none (no validation cases)";
  return [
    `${ended} after ${result.steps} batches in ${result.seconds.toFixed(0)} s; best ${bestText}`,
    `best: ${out}\nlast: ${trainingPaths(out).last}\ncurves: ${result.curves}`,
  ];
}
