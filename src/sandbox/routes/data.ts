import {ApiError, notFound} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {followersOf, resourceUrl} from '../heroku/extras.js'
import {rollbackWindowMs} from '../heroku/point-in-time.js'
import type {Request, Router} from '../server/http.js'
import {Addon, Transfer} from '../heroku/state.js'

// The Heroku Postgres Data API (api.data.heroku.com, /client/v11) for backups, restores and database info.

export function transferJson(transfer: Transfer, verbose = false) {
  const visible = Object.fromEntries(Object.entries(transfer).filter(([key]) => !key.startsWith('_')))
  if (!verbose) delete visible.logs
  return visible
}

const planTitle = (plan: string) => plan.split(':')[1].replace(/-(\d+)$/, ' $1').replace(/^\w/, c => c.toUpperCase())

const utcMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'

// The database a Data API path names (`:id`, its add-on's id or name).
export function databaseOf(heroku: Heroku, request: Request): Addon {
  const addon = heroku.state.database(request.params.id)
  if (!addon) throw notFound('database')
  return addon
}

export function dataRoutes(router: Router, heroku: Heroku) {
  const {state} = heroku
  const database = (request: Request) => databaseOf(heroku, request)

  const transfer = (request: Request) => {
    const key = request.params.transfer
    // `pg:backups:restore` polls its restore by the app's id, other commands by its name.
    const app = state.app(request.params.app)?.name ?? request.params.app
    const found = state.transfers.find(t => t._app === app && !t.deleted_at && (t.uuid === key || String(t.num) === key))
    if (!found) throw notFound('transfer')
    return found
  }

  router
    .on('GET', '/client/v11/apps/:app/transfers', request => {
      if (!state.app(request.params.app)) throw notFound('app')
      return state.transfers.filter(t => t._app === request.params.app && !t.deleted_at).map(t => transferJson(t))
    })
    .on('GET', '/client/v11/apps/:app/transfers/:transfer', request =>
      transferJson(transfer(request), request.query.get('verbose') === 'true'))
    .on('DELETE', '/client/v11/apps/:app/transfers/:transfer', request => {
      const found = transfer(request)
      found.deleted_at = new Date().toISOString()
      return transferJson(found)
    })
    .on('POST', '/client/v11/apps/:app/transfers/:transfer/actions/public-url', request => {
      const found = transfer(request)
      return {url: found.to_url, expires_at: new Date(Date.now() + 3600_000).toISOString()}
    })
    .on('POST', '/client/v11/apps/:app/transfers/:transfer/actions/cancel', request => {
      const found = transfer(request)
      if (!found.finished_at) Object.assign(found, {canceled_at: new Date().toISOString(), finished_at: new Date().toISOString(), succeeded: false})
      return transferJson(found)
    })
    .on('POST', '/client/v11/databases/:id/backups', request => transferJson(heroku.capture(database(request))))
    .on('POST', '/client/v11/databases/:id/restores', request => {
      const url = request.body?.backup_url
      if (!url) throw new ApiError(422, 'invalid_params', 'backup_url is required.')
      return transferJson(heroku.restore(database(request), String(url)))
    })
    .on('GET', '/client/v11/databases/:id/transfer-schedules', request => {
      database(request)
      return []
    })
    .on('GET', '/client/v11/databases/:id/wait_status', request => {
      const creating = state.addons.get(request.params.id)
      if (creating?.state === 'provisioning') return {'waiting?': true, message: 'provisioning'}
      const addon = database(request)
      if ((addon._availableAt ?? 0) > Date.now()) return {'waiting?': true, message: 'preparing'}
      return {'waiting?': false, message: 'available'}
    })
    .on('GET', '/client/v11/databases/:id', async request => {
      const addon = database(request)
      const db = addon._database!
      const window = rollbackWindowMs(addon.plan.name)
      const earliest = Math.max(db.createdAt, Date.now() - window)
      const [bytes, tables] = await Promise.all([
        heroku.pg.databaseSize(db.name),
        heroku.pg.query<{count: string}>("SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')", [], db.name),
      ])
      const info = [
        {name: 'Plan', values: [planTitle(addon.plan.name)]},
        {name: 'Status', values: [addon.state === 'provisioning' ? 'Preparing' : 'Available']},
        {name: 'Data Size', values: [`${(bytes / 1024 / 1024).toFixed(1)} MB`]},
        {name: 'Tables', values: [tables.rows[0].count]},
        {name: 'PG Version', values: ['18.4']},
        {name: 'Created', values: [utcMinute(db.createdAt)]},
      ]
      const followers = followersOf(heroku, addon)
      if (followers.length > 0) info.push({name: 'Followers', values: followers.map(f => resourceUrl(heroku, f)), resolve_db_name: true} as typeof info[number])
      if (window > 0) {
        info.push(
          {name: 'Continuous Protection', values: ['On']},
          {name: 'Rollback', values: [`earliest from ${utcMinute(earliest)}`]},
        )
      }
      return {
        addon_id: addon.id, name: addon.name, plan: addon.plan.name.split(':')[1], resource_url: `postgres://127.0.0.1:${heroku.pg.port}/${db.name}`,
        info, following: addon._following ? resourceUrl(heroku, state.addons.get(addon._following)!) : null, followers: [], leader: null, 'waiting?': addon.state === 'provisioning', num_bytes: bytes,
        num_tables: Number(tables.rows[0].count), current_transaction: '1000', database_name: db.name, created_at: new Date(db.createdAt).toISOString(),
      }
    })
}
