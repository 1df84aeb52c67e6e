import {Refused} from './errors.js'

// Secrets must never reach output: config var values, database credentials, the API key.
// Everything the plugin prints about failures goes through `redact`.

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@/\s]+)@/gi

const known = new Set<string>()

// Values worth hiding wherever they show up (say, inside an API error message).
export function registerSecrets(values: Iterable<string | undefined | null>) {
  for (const value of values) if (value && value.length >= 6) known.add(value)
}

export function redact(text: string): string {
  let result = text.replace(URL_CREDENTIALS, '$1:[REDACTED]@')
  const apiKey = process.env.HEROKU_API_KEY
  for (const secret of apiKey ? [...known, apiKey] : known) result = result.split(secret).join('[REDACTED]')
  return result
}

const CONFIG_VALUES_PATH = /\/config-vars\b|\/bastion\b|\/credentials\b/

// With DEBUG set, the CLI's HTTP client logs every response body, config var values included. Route
// that log through here: bodies of requests that carry secrets are dropped, everything is redacted.
// `also`: other copies of the `debug` module (files), such as the one the CLI's own HTTP client logs through.
export async function guardDebugOutput(also: string[] = []) {
  if (!process.env.DEBUG) return
  const {default: createDebug} = await import('debug')
  const {format} = await import('node:util')
  const {createRequire} = await import('node:module')
  const copies = also.map(file => {
    try {
      return createRequire(import.meta.url)(file) as typeof createDebug
    } catch {
      return undefined
    }
  })
  const log = (...args: unknown[]) => {
    let text = format(...args)
    const [first, ...rest] = text.split('\n')
    if (CONFIG_VALUES_PATH.test(first)) {
      const bodyStart = rest.findIndex(line => !/^ {2}[\w-]+: /.test(line))
      text = [first, ...(bodyStart === -1 ? rest : rest.slice(0, bodyStart)), '  [body hidden: it holds secrets]'].join('\n')
    }
    process.stderr.write(redact(text) + '\n')
  }
  for (const copy of [createDebug, ...copies]) if (copy) copy.log = log
}

// A URL with a password, in its user info (`postgres://u:PASSWORD@host`) or as libpq's `?password=`.
export function hasPassword(value: string): boolean {
  try {
    const url = new URL(value)
    return url.password !== '' || url.searchParams.has('password')
  } catch {
    return /:\/\/[^@\s]*:[^@\s]+@/.test(value)
  }
}

// A password on the command line shows in `ps`, and with DEBUG set oclif logs the argv before any of
// this plugin's code runs, so nothing can redact it: such a flag takes its secret from the environment.
export function assertNoPasswordInArgv(argv: string[], flag: string, variable: string): void {
  const values = argv.flatMap((arg, i) => arg === flag ? [argv[i + 1] ?? ''] : arg.startsWith(`${flag}=`) ? [arg.slice(flag.length + 1)] : [])
  if (values.some(hasPassword)) throw new Refused(`${flag} has a password: it would show in \`ps\` and in DEBUG output; set ${variable} instead.`)
}
