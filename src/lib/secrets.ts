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
