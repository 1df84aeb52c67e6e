import {ApiError} from './errors.js'
import type {RollbackConfig} from './point-in-time.js'
import type {Addon} from './state.js'

// Heroku Postgres Advanced (plans `advanced*`, `performance*`), as far as a rollback goes: it forks with
// `config: {rollback, 'recovery-time', level}` (the CLI's commands/data/pg/fork.js), the other tiers with
// `config: {rollback, to | by}`. SIMULATED: what Heroku answers to the wrong form for each tier is not
// documented; the sandbox refuses it with a 422, so that a plugin sending the wrong one fails here.

export const isAdvanced = (addon: Pick<Addon, 'plan'>) => /^(advanced|performance)/.test(addon.plan.name.split(':')[1] ?? '')

export interface AdvancedConfig {
  rollback?: string
  'recovery-time'?: string
  level?: string
}

// The rollback as the point-in-time code takes it (`to`, a time in UTC), from either form, refusing the wrong one.
export function rollbackConfigFor(source: Addon, config: RollbackConfig & AdvancedConfig): RollbackConfig {
  const advanced = isAdvanced(source)
  if (advanced && (config.to || config.by)) {
    throw new ApiError(422, 'invalid_params', `${source.name} is an Advanced-tier database: roll it back with \`recovery-time\` (heroku data:pg:fork --rollback-to), not \`to\` or \`by\`.`)
  }
  if (!advanced && config['recovery-time']) throw new ApiError(422, 'invalid_params', `\`recovery-time\` is for Advanced-tier databases; ${source.name} takes \`to\` or \`by\`.`)
  if (!advanced) return config
  const time = config['recovery-time'] ?? ''
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(time)) throw new ApiError(422, 'invalid_params', `Could not parse recovery-time "${time}": use YYYY-MM-DDTHH:MM:SS.`)
  return {rollback: config.rollback!, to: `${time}Z`}
}

// The leader pool's level of a new Advanced database: the one asked for, else its source's.
export const levelOf = (addon: Addon) => addon._level ?? '4G-Performance'
