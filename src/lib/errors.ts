// The plugin's failures, each with a one-line message. `state` says where things stand now, so that an
// engineer in an incident knows whether anything changed; `details` is what --json prints beside it.

export class SafeRollbackError extends Error {
  exitCode = 1
  constructor(message: string, public state?: string, public details?: Record<string, unknown>) {
    super(message)
  }
}

// A check refused the operation before anything was written.
export class Refused extends SafeRollbackError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, 'Nothing was changed.', details)
  }
}

// A prompt was needed but there is no terminal to show it on.
export class NeedsFlag extends Refused {
  constructor(what: string, flag: string) {
    super(`${what} needs a terminal; pass ${flag} to run unattended.`)
  }
}

// The user said no, or pressed Ctrl-C at a prompt or before anything was changed.
export class Cancelled extends SafeRollbackError {
  constructor(exitCode = 130, state = 'Nothing was changed.') {
    super('Cancelled.', state)
    this.exitCode = exitCode
  }
}

// The message of an API error: Heroku's `{id, message}` body when there is one.
export function messageOf(error: unknown): string {
  const e = error as {body?: {message?: string}, http?: {body?: {message?: string}}, message?: string}
  return e?.body?.message ?? e?.http?.body?.message ?? e?.message ?? String(error)
}
