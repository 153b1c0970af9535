// Every bench script answers `--help` with its usage and a malformed call with one line and exit
// code 2, before it touches the GPU (bench/_args.ts).
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function run(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `bench/${script}`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const SCRIPTS = [
  "browser_segment.ts",
  "dispatch_count.ts",
  "inference_modes.ts",
  "kernels_report.ts",
  "load_costs.ts",
  "model_report.ts",
  "segment_bench.ts",
  "segment_memory.ts",
  "torch_compare.ts",
  "train_memory.ts",
];

Deno.test("every bench script prints its usage for --help and refuses an unknown flag in one line", async () => {
  await Promise.all(SCRIPTS.map(async (script) => {
    const help = await run(script, ["--help"]);
    assert.equal(help.code, 0, `${script} --help: ${help.stderr}`);
    assert.match(help.stdout, /^usage: deno (run -A bench\/\S+|task \S+)/, script);
    const bad = await run(script, ["--no-such-flag"]);
    assert.equal(bad.code, 2, `${script}: ${bad.stderr}`);
    assert.match(bad.stderr, new RegExp(`^bench/${script}: .*--no-such-flag`), script);
    assert.equal(bad.stderr.split("\n").length, 1, `${script}: ${bad.stderr}`);
  }));
});

Deno.test("bench scripts name the flag and the value that is wrong, in one line", async () => {
  const cases: [string, string[], RegExp][] = [
    ["model_report.ts", ["--reps", "0"], /--reps "0" must be an integer >= 1/],
    ["model_report.ts", ["--sizes", "240,100"], /--sizes "240,100" must be multiples of 16/],
    [
      "dispatch_count.ts",
      ["--widths", "8,16,32"],
      /--widths "8,16,32" must be four positive integers/,
    ],
    ["segment_bench.ts", ["--window", "3,3"], /--window "3,3" must be T or T,O/],
    ["train_memory.ts", ["--size", "240,128"], /--size "240,128" must be one integer >= 16/],
    ["kernels_report.ts", ["--rounds", "x"], /--rounds "x" must be an integer >= 1/],
  ];
  await Promise.all(cases.map(async ([script, args, message]) => {
    const r = await run(script, args);
    assert.equal(r.code, 2, `${script} ${args}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split("\n").length, 1, r.stderr);
    assert.equal(r.stdout, "", `${script} ran on: ${r.stdout}`);
  }));
  // A required flag left out prints the usage to stderr.
  const missing = await run("inference_modes.ts", ["--model", "m.safetensors"]);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /^usage: deno run -A bench\/inference_modes\.ts --model FILE --data/,
  );
});
