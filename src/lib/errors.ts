// The plugin's failures, each with a one-line message. `state` says where things stand now,
// so that an engineer in an incident knows whether anything changed.

export class SafeRollbackError extends Error {
  exitCode = 1
  // With --json, printed beside the error: what the command had found before it stopped.
  details?: Record<string, unknown>
  constructor(message: string, public state?: string) {
    super(message)
  }
}

// A check refused the operation before anything was written.
export class Refused extends SafeRollbackError {
  constructor(message: string, state = 'Nothing was changed.') {
    super(message, state)
  }
}

// A prompt was needed but there is no terminal to show it on.
export class NeedsFlag extends Refused {
  constructor(what: string, flag: string) {
    super(`${what} needs a terminal; pass ${flag} to run unattended.`)
  }
}

// The user said no, or pressed Ctrl-C at a prompt.
export class Cancelled extends SafeRollbackError {
  override exitCode = 130
  constructor(state = 'Nothing was changed.') {
    super('Cancelled.', state)
  }
}

// The HTTP status of an error from the Heroku API client, wherever the client put it.
export function statusOf(error: unknown): number | undefined {
  const e = error as {http?: {statusCode?: number}, statusCode?: number, response?: {statusCode?: number}}
  return e?.http?.statusCode ?? e?.statusCode ?? e?.response?.statusCode
}

// The message of an API error: Heroku's `{id, message}` body when there is one.
export function messageOf(error: unknown): string {
  const e = error as {body?: {message?: string}, http?: {body?: {message?: string}}, message?: string}
  return e?.body?.message ?? e?.http?.body?.message ?? e?.message ?? String(error)
}
