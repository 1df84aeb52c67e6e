// Ctrl-C (SIGINT), SIGTERM and SIGHUP (a dropped SSH session) for the whole life of a command. Before
// anything is changed, a signal ends the command at once ("nothing was changed"); once the runner
// starts changing things, it takes the signals over and decides (see runner.ts).

export type SignalHandler = (signal: NodeJS.Signals) => void

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
const NUMBERS: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGTERM: 15}

// The shell's convention: 128 plus the signal's number (130 for Ctrl-C).
export const exitCodeOf = (signal: NodeJS.Signals) => 128 + (NUMBERS[signal] ?? 2)

export class Interrupts {
  private handler: SignalHandler
  private standingAside: {signal: NodeJS.Signals, others: ((...args: any[]) => void)[]}[] = []
  private readonly listener = (signal: NodeJS.Signals) => this.handler(signal)

  constructor(private readonly beforeChanges: SignalHandler) {
    this.handler = beforeChanges
  }

  // The CLI's own handlers (its telemetry) exit at once on a signal; ours must be able to finish a
  // put-back first, so they stand aside until the command is over.
  install() {
    for (const signal of SIGNALS) {
      const others = process.listeners(signal) as ((...args: any[]) => void)[]
      process.removeAllListeners(signal)
      process.on(signal, this.listener)
      this.standingAside.push({signal, others})
    }
  }

  uninstall() {
    for (const {signal, others} of this.standingAside) {
      process.removeListener(signal, this.listener)
      for (const other of others) process.on(signal, other)
    }
    this.standingAside = []
  }

  // While `handler` is in charge (a run), signals go to it; afterwards back to the default.
  async during<T>(handler: SignalHandler, work: () => Promise<T>): Promise<T> {
    this.handler = handler
    try {
      return await work()
    } finally {
      this.handler = this.beforeChanges
    }
  }
}
