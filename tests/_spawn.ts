// A CLI run in a subprocess that a test can wait on line by line (never by sleeping) and signal.

const ROOT = new URL("..", import.meta.url).pathname;

/** A running `deno run cli.ts …` (or `deno task …`) with its output collected as it comes. */
export class CliProcess {
  /** The process (`pid`, `kill`). */
  readonly child: Deno.ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved as read. */
  text = "";
  #waiters: { re: RegExp; resolve: () => void }[] = [];
  #reading: Promise<void>;

  /**
   * Starts `cli.ts` with `args` (`via: "task"` runs `deno task -q ARGS`
   * instead, so that signals and deaths of the task runner can be tried).
   */
  constructor(args: string[], options: { via?: "run" | "task" } = {}) {
    const prefix = options.via === "task" ? ["task", "-q"] : ["run", "-A", "cli.ts"];
    this.child = new Deno.Command(Deno.execPath(), {
      args: [...prefix, ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#reading = Promise.all([this.#read(this.child.stdout), this.#read(this.child.stderr)])
      .then(() => this.#settle());
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.text += decoder.decode(chunk, { stream: true });
      this.#settle();
    }
  }

  #settle(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.re.test(this.text)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once the output matches `re`; rejects if the process's output ends first. */
  async waitFor(re: RegExp): Promise<void> {
    if (re.test(this.text)) return;
    const seen = new Promise<void>((resolve) => this.#waiters.push({ re, resolve }));
    const ended = this.#reading.then(() => {
      if (!re.test(this.text)) throw new Error(`output ended without ${re}:\n${this.text}`);
    });
    await Promise.race([seen, ended]);
  }

  /**
   * Waits for the process to exit and its output (and that of any child
   * holding it) to end; after `withinMs` (a guard against a hang, not a wait)
   * the process is killed and this rejects.
   */
  async finish(withinMs = 120_000): Promise<{ code: number; text: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* already gone */ }
        reject(new Error(`still running after ${withinMs} ms:\n${this.text}`));
      }, withinMs);
    });
    try {
      const { code } = await Promise.race([this.child.status, hung]);
      await Promise.race([this.#reading, hung]);
      return { code, text: this.text };
    } finally {
      clearTimeout(timer);
    }
  }
}
