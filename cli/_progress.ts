// Progress display of long commands: a redrawn bar with rate and ETA on a terminal, plain lines otherwise.

const encoder = new TextEncoder();

/**
 * Seconds as "1h02m", "3m07s" or "12s" ("?" when unknown).
 *
 * @example
 * ```ts
 * formatDuration(187); // "3m07s"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * Counts work units (slices) against a known total and shows rate and ETA.
 *
 * @example
 * ```ts
 * const progress = new Progress(310);
 * progress.label("[1/2] case_a");
 * progress.advance(4);
 * progress.done();
 * ```
 */
export class Progress {
  #total: number;
  #done = 0;
  #now: () => number;
  #start: number;
  #tty: boolean;
  #label = "";
  #lastDraw = 0;
  #drawn = false;

  /**
   * `total` units expected; draws on stderr when it is a terminal (unless `tty` says otherwise).
   * `now` is the clock in milliseconds (default `performance.now`; tests pass their own).
   */
  constructor(total: number, options: { tty?: boolean; now?: () => number } = {}) {
    this.#total = total;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
  }

  /** Whether the bar is drawn (a terminal) rather than plain lines. */
  get tty(): boolean {
    return this.#tty;
  }

  /** Units per second since the start. */
  get rate(): number {
    const seconds = (this.#now() - this.#start) / 1000;
    return seconds > 0 ? this.#done / seconds : 0;
  }

  /** Sets what is being worked on (shown beside the bar). */
  label(text: string): void {
    this.#label = text;
    this.#draw(true);
  }

  /** Adds finished units. */
  advance(units: number): void {
    this.#done += units;
    this.#draw(false);
  }

  /** Removes units from the total (work that turned out not to be needed). */
  shrink(units: number): void {
    this.#total = Math.max(this.#done, this.#total - units);
  }

  /** Prints a permanent line (above the bar on a terminal). */
  log(line: string): void {
    this.#clear();
    console.log(line);
    this.#draw(true);
  }

  /** Prints a permanent line to stderr. */
  error(line: string): void {
    this.#clear();
    console.error(line);
    this.#draw(true);
  }

  /** Removes the bar. */
  done(): void {
    this.#clear();
  }

  /** The status text: bar, counts, rate, ETA. */
  status(width = 24): string {
    const fraction = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 1;
    const filled = Math.round(fraction * width);
    const rate = this.rate;
    const eta = rate > 0 ? formatDuration((this.#total - this.#done) / rate) : "?";
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
      (fraction * 100).toFixed(0).padStart(3)
    }% ` +
      `${this.#done}/${this.#total} slices  ${
        rate.toFixed(1)
      } slices/s  ETA ${eta}  ${this.#label}`;
  }

  #draw(force: boolean): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const columns = (() => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 100;
      }
    })();
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${this.status().slice(0, columns - 1)}`));
    this.#drawn = true;
  }

  #clear(): void {
    if (this.#tty && this.#drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    this.#drawn = false;
  }
}
