import type {Heroku} from './heroku.js'
import type {Addon, App} from './state.js'

// What a database has beyond its data, which a point-in-time rollback does not bring along: followers
// (add-ons that replicate it), credentials other than the default one, and Postgres settings
// (`heroku pg:settings`). SIMULATED: followers do not replicate here (a follower is its own empty
// database that says whom it follows); a rollback database starts with the default credential and default
// settings, which is what the plugin must not take for granted either way: it compares the two.

// The settings `heroku pg:settings` shows, with Heroku's defaults (the CLI's pg:settings:* commands).
export const DEFAULT_SETTINGS: Record<string, boolean | number | string> = {
  'auto_explain': false, 'auto_explain.log_analyze': false, 'auto_explain.log_buffers': false, 'auto_explain.log_format': 'text',
  'auto_explain.log_min_duration': -1, 'auto_explain.log_nested_statements': false, 'auto_explain.log_triggers': false, 'auto_explain.log_verbose': false,
  'data_connector_details_logs': false, 'log_connections': true, 'log_lock_waits': false, 'log_min_duration_statement': 2000,
  'log_min_error_statement': 'error', 'log_statement': 'ddl', 'track_functions': 'none',
}

export const settingsOf = (addon: Addon) => ({...DEFAULT_SETTINGS, ...addon._settings})

// A follower of `leader` on `app`, attached under a colour name (as `addons:create PLAN --follow` does).
export async function addFollower(heroku: Heroku, leader: Addon, app: App, plan = leader.plan.name): Promise<Addon> {
  const follower = await heroku.createPostgres(app, plan, heroku.colorName(app))
  follower._following = leader.id
  return follower
}

// A credential of the database (`pg:credentials:create`), attached to `app` as its namespace `credential:NAME` when given.
export function addCredential(heroku: Heroku, addon: Addon, name: string, attachTo?: {app: App, as: string}) {
  addon._credentials = [...(addon._credentials ?? []), name]
  if (attachTo) heroku.state.attach(attachTo.app, addon, attachTo.as, `credential:${name}`)
}

export function setSetting(addon: Addon, name: string, value: boolean | number | string) {
  addon._settings = {...addon._settings, [name]: value}
}

export const followersOf = (heroku: Heroku, leader: Addon) =>
  [...heroku.state.addons.values()].filter(a => a._following === leader.id && a.state !== 'deprovisioned' && a._database)

// What the Data API says of a database: a resource URL, without credentials.
export const resourceUrl = (heroku: Heroku, addon: Addon) => `postgres://127.0.0.1:${heroku.pg.port}/${addon._database!.name}`
