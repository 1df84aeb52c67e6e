import {ApiError} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import type {SandboxState} from '../heroku/state.js'
import {faultReply} from '../server/faults.js'
import {internalError, parseBody, Reply, Router} from '../server/http.js'
import type {RecordedRequest, Service} from '../server/server.js'
import {advancedRoutes} from './advanced.js'
import {dataRoutes} from './data.js'
import {extraRoutes} from './extras.js'
import {logRoutes} from './logs.js'
import {platformRoutes} from './platform.js'
import {pointInTimeRoutes} from './point-in-time.js'
import {slugBlobRoutes} from './slug-blobs.js'
import {streamRoutes} from './streams.js'

// The Platform API and the Postgres Data API on one port, JSON in and out, behind the API key; the
// release streams, slug archives and log sessions they link to, and the apps themselves, without it.

const PUBLIC = /^\/(streams|slug-blobs|logplex|apps-web)\//

// Whether a request is about an app: its own paths (by name or id), its add-ons' paths, a body naming it.
export function concerns(state: SandboxState, app: string, request: Pick<RecordedRequest, 'path' | 'body'>): boolean {
  const target = state.app(app)
  const ids = new Set([app, ...(target ? [target.id, ...[...state.addons.values()].filter(a => a.app.id === target.id).map(a => a.id)] : [])])
  return request.path.split('/').some(segment => ids.has(segment)) || JSON.stringify(request.body ?? '').includes(`"${app}"`)
}

export function apiService(heroku: Heroku, apiKey: string): Service {
  const router = new Router()
  platformRoutes(router, heroku)
  dataRoutes(router, heroku)
  advancedRoutes(router, heroku)
  extraRoutes(router, heroku)
  pointInTimeRoutes(router, heroku)
  streamRoutes(router, heroku)
  slugBlobRoutes(router, heroku)
  logRoutes(router, heroku)
  return {
    owns: () => true,
    recorded: parseBody,
    concerns: (app, request) => concerns(heroku.state, app, request),
    // Every API request but the release streams and log sessions.
    roundTrip: path => !/^\/(streams|logplex)\//.test(path),
    async answer({record, url, headers}) {
      try {
        // `heroku pg:credentials` sends the token as a Basic password.
        if (!PUBLIC.test(url.pathname) && headers.authorization !== `Bearer ${apiKey}` && headers.authorization !== `Basic ${Buffer.from(`:${apiKey}`).toString('base64')}`) {
          throw new ApiError(401, 'unauthorized', 'Invalid credentials provided.')
        }
        const route = router.match(record.method, url.pathname)
        if (!route) throw new ApiError(404, 'not_found', 'The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?')
        record.applied = true
        const result = await route.handler({method: record.method, path: url.pathname, params: route.params, query: url.searchParams, headers, body: record.body})
        return result instanceof Reply ? result : new Reply({body: result})
      } catch (error) {
        if (error instanceof ApiError) return new Reply({status: error.status, body: {id: error.id, message: error.message}})
        return internalError()
      }
    },
    faultReply,
  }
}
