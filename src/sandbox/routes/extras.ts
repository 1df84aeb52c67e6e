import {isAdvanced} from '../heroku/advanced.js'
import {notFound} from '../heroku/errors.js'
import {settingsOf} from '../heroku/extras.js'
import type {Heroku} from '../heroku/heroku.js'
import type {Request, Router} from '../server/http.js'
import {databaseOf} from './data.js'

// Credentials and settings of a database on the Data API host, as `heroku pg:credentials`, `pg:settings`
// and `data:pg:settings` read them (shapes from the CLI's lib/data/types: NonAdvancedCredentialInfo,
// AdvancedCredentialInfo, SettingsResponse). Passwords are in the answer, as at Heroku.
export function extraRoutes(router: Router, heroku: Heroku) {
  const database = (request: Request) => databaseOf(heroku, request)

  router
    .on('GET', '/postgres/v0/databases/:id/credentials', request => {
      const addon = database(request)
      const db = addon._database!
      const names = ['default', ...(addon._credentials ?? [])]
      if (isAdvanced(addon)) {
        return names.map(name => ({
          database: db.name, host: '127.0.0.1', id: `${addon.id}-${name}`, name, port: String(heroku.pg.port), state: 'active',
          type: name === 'default' ? 'owner' : 'additional', roles: [{user: name === 'default' ? db.role : `${name}_role`, password: db.password, state: 'active'}],
        }))
      }
      return names.map(name => ({
        uuid: `${addon.id}-${name}`, name, state: 'active', database: db.name, host: '127.0.0.1', port: String(heroku.pg.port),
        credentials: [{user: name === 'default' ? db.role : `${name}_role`, password: db.password, state: 'active', connections: 0}],
      }))
    })
    .on('GET', '/postgres/v0/databases/:id/config', request => {
      const settings = settingsOf(database(request))
      return Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, {value, desc: `${name} (sandbox)`}]))
    })
    .on('GET', '/data/postgres/v1/:id/settings', request => {
      const addon = database(request)
      if (!isAdvanced(addon)) throw notFound('database')
      return {items: Object.entries(settingsOf(addon)).map(([name, current]) => ({name, current, default: current, reboot_required: false}))}
    })
}
