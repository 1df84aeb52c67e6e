import {ApiError} from './errors.js'
import type {Heroku} from './heroku.js'
import {handOver, recoveryTimeFor, RollbackConfig, snapshotsOf} from './point-in-time.js'
import {rollbackConfigFor} from './advanced.js'
import {visibleUrl} from './network.js'
import {Addon, App, now, SandboxState, shortId, uuid} from './state.js'

// Creating Heroku Postgres add-ons through the API, including point-in-time rollbacks (`config:
// {rollback, to | by}`, see point-in-time.ts).

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// Creates the add-on's real database: empty, or the source as of the recovery time.
async function provisionDatabase(heroku: Heroku, addon: Addon, source?: {addon: Addon, at: number}) {
  const name = `d${shortId()}`
  const {role, password} = await heroku.pg.createDatabase(name)
  const snapshot = source && snapshotsOf(heroku.state, source.addon).filter(s => s.at <= source.at).at(-1)
  if (source && snapshot) {
    await heroku.pg.dropDatabase(name)
    await heroku.pg.cloneDatabase(snapshot.name, name, role)
    await handOver(heroku.pg, name, source.addon._database!.role, role)
  }
  addon._database = {name, role, password, url: heroku.pg.urlFor(name, role, password), createdAt: Date.now()}
  addon._restoredFrom = source && {addon: source.addon.name, at: new Date(source.at).toISOString(), snapshotAt: snapshot ? new Date(snapshot.at).toISOString() : null}
}

function findSource(state: SandboxState, app: App, key: string): Addon {
  const byAttachment = state.attachmentsOf(app).find(a => a.name.toUpperCase() === key.replace(/_URL$/i, '').toUpperCase())
  const found = byAttachment ? state.addons.get(byAttachment.addon.id) : [...state.addons.values()].find(a => a.name === key || a.id === key)
  if (!found?._database || found.state !== 'provisioned') throw new ApiError(422, 'invalid_params', `Could not find a database to roll back from: ${key}.`)
  return found
}

// The add-on starts `provisioning`, attached at once (as on Heroku) but without its config var; after
// `delays.provision` the database exists and the config var is set; the database is then `waiting?`
// for as long again, as a rollback database is while it replays up to its target time.
export function createPostgresAddon(heroku: Heroku, app: App, body: any): Addon {
  const plan = String(body?.plan?.name ?? body?.plan ?? '')
  if (!plan.startsWith('heroku-postgresql:')) throw new ApiError(422, 'invalid_params', `The sandbox only provisions heroku-postgresql plans, not "${plan}".`)
  const config = (body?.config ?? {}) as RollbackConfig
  const source = config.rollback ? findSource(heroku.state, app, config.rollback) : undefined
  const at = source ? recoveryTimeFor(source, rollbackConfigFor(source, config)) : undefined
  const created = now()
  const addon: Addon = {
    id: uuid(), name: body?.name ?? heroku.state.addonName(), app: {id: app.id, name: app.name}, plan: {id: uuid(), name: plan},
    addon_service: {id: uuid(), name: 'heroku-postgresql'}, state: 'provisioning', config_vars: [],
    created_at: created, updated_at: created, web_url: 'https://data.heroku.com/', _unreachable: source?._unreachable,
    _level: body?.config?.level ?? source?._level,
  }
  heroku.state.addons.set(addon.id, addon)
  const attachment = heroku.attachWithRelease(app, addon, body?.attachment?.name ?? heroku.colorName(app))
  addon.config_vars = attachment.config_vars
  heroku.background(async () => {
    await sleep(heroku.delays.provision)
    try {
      await provisionDatabase(heroku, addon, source && {addon: source, at: at!})
    } catch {
      addon.state = 'deprovisioned'
      return
    }
    if (addon.state === 'deprovisioned') return heroku.pg.dropDatabase(addon._database!.name)
    addon._availableAt = Date.now() + heroku.delays.provision
    addon.state = 'provisioned'
    addon.updated_at = now()
    if (heroku.state.attachments.has(attachment.id)) {
      app.config[`${attachment.name}_URL`] = visibleUrl(addon)
      heroku.state.addRelease(app, {description: `Update ${attachment.name} by heroku-postgresql`})
    }
  })
  return addon
}
