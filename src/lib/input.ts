import {Refused} from './errors.js'

// An empty value is never what was meant: `--verify "$CHECK"` with CHECK unset would run no check at
// all, `--keys-from-db ""` would recover every deleted file, `--out ""` would write into the current
// folder. Every command refuses one, for any flag that takes a value and any argument, right after
// parsing (command.ts), before any request. An empty environment variable is not a value: oclif
// leaves the flag unset then.

const blank = (value: unknown) => typeof value === 'string' && value.trim() === ''

export function assertNoEmptyValues(parsed: {flags?: Record<string, unknown>, args?: Record<string, unknown>}): void {
  for (const [name, value] of Object.entries(parsed.flags ?? {})) {
    if (blank(value) || (Array.isArray(value) && value.some(blank))) {
      throw new Refused(`--${name} is empty (an unset shell variable?): pass a value, or leave the flag out.`)
    }
  }
  for (const [name, value] of Object.entries(parsed.args ?? {})) {
    if (blank(value)) throw new Refused(`The ${name.toUpperCase()} argument is empty (an unset shell variable?): pass a value, or leave it out.`)
  }
}
