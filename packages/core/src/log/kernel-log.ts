import { EventEmitter } from 'eventemitter3';

/** printk levels, most severe first (KERN_EMERG .. KERN_DEBUG). */
export type LogLevel = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

export interface LogLine {
  /** Simulated time in nanoseconds. */
  readonly timeNs: number;
  readonly level: LogLevel;
  /** The message without the timestamp. */
  readonly text: string;
  /** dev_printk lines: the device's name (the prefix names its driver or bus too). */
  readonly dev?: string;
  /** dev_printk lines: where the message starts in `text`, after the prefix. */
  readonly msgStart?: number;
}

/** A line as a structured record: seconds since boot, printk level, device (or null), message. */
export interface LogRecord {
  readonly t: number;
  readonly level: LogLevel;
  readonly dev: string | null;
  readonly msg: string;
}

/** What a `dev_*` prefix needs of a device: `<driver or bus name> <device name>: `. */
export interface LogDevice {
  readonly name: string;
  readonly driverName?: string | undefined;
  readonly busName?: string | undefined;
}

/** What ended the simulated kernel. */
export interface OopsReport {
  readonly timeNs: number;
  readonly reason: string;
  readonly details: readonly string[];
}

/**
 * Thrown (inside the simulated kernel only) when it oopses: it unwinds the simulated call stack up to
 * whoever runs the machine, which catches it and reports. It never escapes a machine's public API.
 */
export class KernelOops extends Error {
  constructor(readonly report: OopsReport) {
    super(`kernel oops: ${report.reason}`);
    this.name = 'KernelOops';
  }
}

export interface KernelLogEvents {
  line: (line: LogLine, formatted: string) => void;
  warn: (count: number, text: string) => void;
  oops: (report: OopsReport) => void;
}

/** The kernel's printk ratelimit defaults: 10 messages per 5 s. */
const RATELIMIT_INTERVAL_NS = 5e9;
const RATELIMIT_BURST = 10;

/** `[    0.000000]`: seconds right-aligned in five columns, then microseconds. */
export function formatTimestamp(timeNs: number): string {
  const us = Math.floor(timeNs / 1000);
  const sec = Math.floor(us / 1e6);
  const frac = us - sec * 1e6;
  return `[${String(sec).padStart(5, ' ')}.${String(frac).padStart(6, '0')}]`;
}

/**
 * The kernel log (dmesg). Lines carry the simulated time; `dev*` helpers add the `dev_printk` prefix;
 * `warn` counts WARN()s and the run goes on; `oops` ends the simulated kernel with a report.
 */
export class KernelLog extends EventEmitter<KernelLogEvents> {
  private readonly entries: LogLine[] = [];
  private readonly warnedOnce = new Set<string>();
  private readonly ratelimits = new Map<string, { begin: number; printed: number; missed: number }>();
  private oopsReport: OopsReport | null = null;
  warnCount = 0;

  constructor(private readonly clock: () => number = () => 0) {
    super();
  }

  get lines(): readonly LogLine[] {
    return this.entries;
  }

  get oopsed(): OopsReport | null {
    return this.oopsReport;
  }

  /** Every line in dmesg form. */
  format(minLevel: LogLevel = 'debug'): string[] {
    const max = LOG_LEVELS.indexOf(minLevel);
    return this.entries.filter((l) => LOG_LEVELS.indexOf(l.level) <= max).map((l) => `${formatTimestamp(l.timeNs)} ${l.text}`);
  }

  /** Every line at `minLevel` or more severe, as records. */
  records(minLevel: LogLevel = 'debug'): LogRecord[] {
    const max = LOG_LEVELS.indexOf(minLevel);
    return this.entries
      .filter((l) => LOG_LEVELS.indexOf(l.level) <= max)
      .map((l) => ({ t: Math.round(l.timeNs / 1000) / 1e6, level: l.level, dev: l.dev ?? null, msg: l.msgStart === undefined ? l.text : l.text.slice(l.msgStart) }));
  }

  printk(level: LogLevel, text: string): void {
    this.push({ timeNs: this.clock(), level, text });
  }

  private push(line: LogLine): void {
    const text = line.text;
    this.entries.push(line);
    if (this.listenerCount('line') > 0) this.emit('line', line, `${formatTimestamp(line.timeNs)} ${text}`);
  }

  info(text: string): void {
    this.printk('info', text);
  }
  notice(text: string): void {
    this.printk('notice', text);
  }
  warning(text: string): void {
    this.printk('warning', text);
  }
  err(text: string): void {
    this.printk('err', text);
  }
  debug(text: string): void {
    this.printk('debug', text);
  }

  /** dev_printk: `<driver, else bus> <device>: text`. */
  dev(level: LogLevel, dev: LogDevice, text: string): void {
    const prefix = devPrefix(dev);
    this.push({ timeNs: this.clock(), level, text: `${prefix}${text}`, dev: dev.name, msgStart: prefix.length });
  }

  /** printk, or dev_printk when a device is given. */
  private print(level: LogLevel, text: string, dev: LogDevice | undefined): void {
    if (dev === undefined) this.printk(level, text);
    else this.dev(level, dev, text);
  }
  devInfo(dev: LogDevice, text: string): void {
    this.dev('info', dev, text);
  }
  devWarn(dev: LogDevice, text: string): void {
    this.dev('warning', dev, text);
  }
  devErr(dev: LogDevice, text: string): void {
    this.dev('err', dev, text);
  }
  devDbg(dev: LogDevice, text: string): void {
    this.dev('debug', dev, text);
  }

  /**
   * printk_ratelimited keyed by call site: at most 10 lines per 5 simulated seconds per key; when a
   * new interval opens after suppression the kernel's "callbacks suppressed" line is printed first.
   * Returns whether the line was printed.
   */
  ratelimited(key: string, level: LogLevel, text: string, dev?: LogDevice): boolean {
    const now = this.clock();
    let rs = this.ratelimits.get(key);
    if (rs === undefined) {
      rs = { begin: now, printed: 0, missed: 0 };
      this.ratelimits.set(key, rs);
    }
    if (now - rs.begin >= RATELIMIT_INTERVAL_NS) {
      if (rs.missed > 0) this.printk('warning', `${key}: ${rs.missed} callbacks suppressed`);
      rs.begin = now;
      rs.printed = 0;
      rs.missed = 0;
    }
    if (rs.printed < RATELIMIT_BURST) {
      rs.printed++;
      this.print(level, text, dev);
      return true;
    }
    rs.missed++;
    return false;
  }

  /**
   * WARN(): prints the cut-here banner, the WARNING line with its site and the message, counts it,
   * and returns so the run goes on. `site` names the code, like `drivers/iommu/dma-iommu.c:123 fn`.
   * With a device it is dev_WARN(): the message carries the driver (or bus) and device name.
   */
  warn(site: string, text?: string, dev?: LogDevice): void {
    this.warnCount++;
    this.printk('warning', '------------[ cut here ]------------');
    if (text !== undefined && text.length > 0) this.print('warning', text, dev);
    this.printk('warning', `WARNING: CPU: 0 PID: 1 at ${site}`);
    // __warn()'s backtrace header: the task, the taint a first WARN leaves (W), the call trace's top
    this.printk('warning', 'Modules linked in:');
    this.printk('warning', `CPU: 0 PID: 1 Comm: swapper/0 ${this.warnCount === 1 ? 'Not tainted' : 'Tainted: G        W'}`);
    this.printk('warning', 'Call trace:');
    this.printk('warning', ` ${site.split(' ').at(-1) ?? site}`);
    this.printk('warning', `---[ end trace ${String(this.warnCount).padStart(16, '0')} ]---`);
    this.emit('warn', this.warnCount, text ?? site);
  }

  /** WARN_ONCE(): warns the first time for a given site only. Returns whether it printed. */
  warnOnce(site: string, text?: string, dev?: LogDevice): boolean {
    if (this.warnedOnce.has(site)) return false;
    this.warnedOnce.add(site);
    this.warn(site, text, dev);
    return true;
  }

  /** Ends the simulated kernel: logs the oops and throws KernelOops to unwind to the machine. */
  oops(reason: string, details: readonly string[] = []): never {
    const report: OopsReport = { timeNs: this.clock(), reason, details };
    if (this.oopsReport === null) {
      this.oopsReport = report;
      this.printk('emerg', `Internal error: Oops: ${reason} [#1] PREEMPT SMP`);
      for (const d of details) this.printk('emerg', d);
      this.printk('emerg', '---[ end trace 0000000000000000 ]---');
      this.printk('emerg', 'Kernel panic - not syncing: Fatal exception');
      this.emit('oops', report);
    }
    throw new KernelOops(report);
  }
}

export function devPrefix(dev: LogDevice): string {
  const who = dev.driverName ?? dev.busName;
  return who === undefined || who === '' ? `${dev.name}: ` : `${who} ${dev.name}: `;
}
