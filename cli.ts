/**
 * Command-line entry point: `deno run -A cli.ts <command> [args]`.
 *
 * Each command lives in `cli/<command>.ts` and exports `run(args)`, which
 * returns the exit code. Errors reach the user as one line, never a stack
 * trace (set `DEBUG=1` to see the trace).
 *
 * @module
 */

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  info: {
    summary: "print a NIfTI file's header and statistics",
    load: () => import("./cli/info.ts"),
  },
  synth: {
    summary: "write synthetic BraTS-style phantom cases",
    load: () => import("./cli/synth.ts"),
  },
  eval: {
    summary: "score predicted label volumes against the truth",
    load: () => import("./cli/eval.ts"),
  },
  segment: { summary: "segment every case under a folder", load: () => import("./cli/segment.ts") },
  train: { summary: "train a model on a folder of cases", load: () => import("./cli/train.ts") },
  cv: {
    summary: "score a train --folds run out of fold; choose its postprocessing",
    load: () => import("./cli/cv.ts"),
  },
  demo: {
    summary: "synthesise, segment and score a few cases",
    load: () => import("./cli/demo.ts"),
  },
  web: { summary: "build (and serve) the browser page", load: () => import("./cli/web.ts") },
};

interface CommandModule {
  run(args: string[]): Promise<number>;
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: deno task <command> [args]   (or: deno run -A cli.ts <command> [args])\n\ncommands:\n${
    rows.join("\n")
  }\n\nRun a command with --help for its options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return await mod.run(rest);
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (Deno.env.get("DEBUG")) console.error(error);
    else console.error(error instanceof Error ? error.message : String(error));
    code = 1;
  }
  Deno.exit(code);
}
