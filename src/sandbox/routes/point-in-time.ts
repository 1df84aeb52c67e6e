import {notFound} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {createPostgresAddon} from '../heroku/provision.js'
import type {Request, Router} from '../server/http.js'
import {addonJson} from './platform.js'

// Creating Heroku Postgres add-ons, including point-in-time rollbacks (see heroku/point-in-time.ts).
export function pointInTimeRoutes(router: Router, heroku: Heroku) {
  const app = (request: Request) => {
    const found = heroku.state.app(request.params.app)
    if (!found) throw notFound('app')
    return found
  }
  router.on('POST', '/apps/:app/addons', request => {
    const addon = createPostgresAddon(heroku, app(request), request.body)
    return {...addonJson(addon), provision_message: null}
  })
}
