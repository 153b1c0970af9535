// Peak resident memory of training steps (on a CPU adapter GPU buffers live in this process):
// /proc/self/status VmHWM after 3 steps of the benchmark network, with activations released as
// the backward passes them (the trainer's way) or, with --keep-saved, kept to the step's end.
// `--help` for the flags.
import { getDevice } from "../gpu/device.ts";
import { makeCase, trainStep } from "./_model_cases.ts";
import { benchArgs, benchSizes, benchWidths } from "./_args.ts";

const args = benchArgs(
  "usage: deno run -A bench/train_memory.ts [--size 240] [--widths 16,32,64,64] [--keep-saved]",
  {
    size: { type: "string", default: "240" },
    widths: { type: "string", default: "16,32,64,64" },
    "keep-saved": { type: "boolean", default: false },
  },
);
const [size] = benchSizes("size", args.size, 1);
const [widths] = benchWidths("widths", args.widths, 1);

function status(field: string): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(field)
  );
  return Number(line?.match(/(\d+)/)?.[1] ?? NaN) / 1024;
}

await getDevice();
const c = makeCase(widths, size, 8);
for (let i = 0; i < 3; i++) await trainStep(c, !args["keep-saved"]);
console.log(
  `${c.label}, activations ${
    args["keep-saved"] ? "kept to the step's end" : "released in backward"
  }: ` +
    `peak RSS ${status("VmHWM").toFixed(0)} MiB`,
);
