import {ApiError, notFound} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {formatLine} from '../heroku/logplex.js'
import {Reply, Router} from '../server/http.js'

// What an app shows of itself while it runs: its log sessions (`POST /apps/{app}/log-sessions`, then the
// `logplex_url` read as server-sent events, as `heroku logs --tail` reads it), its features (preboot),
// and the app itself at its web URL (`/apps-web/APP/...` on the sandbox's own host), answered by the
// code of the release its dynos run.

// Heroku's feature list has many more; these are the ones that change how a release reaches traffic.
const FEATURES: [name: string, description: string][] = [
  ['preboot', 'Provide seamless web dyno deploys by starting the new dynos before the old ones stop.'],
  ['http-session-affinity', 'Enable session affinity for all requests to an app.'],
  ['runtime-dyno-metadata', 'Provide information about the app and release in environment variables.'],
]

export function logRoutes(router: Router, heroku: Heroku) {
  const {state, logplex} = heroku
  const app = (name: string) => {
    const found = state.app(name)
    if (!found) throw notFound('app')
    return found
  }

  router
    .on('POST', '/apps/:app/log-sessions', request => {
      const session = logplex.openSession(app(request.params.app), request.body ?? {})
      return new Reply({status: 201, body: {
        id: session.id, created_at: session.created_at, updated_at: session.created_at,
        logplex_url: `${heroku.url}/logplex/sessions/${session.id}?srv=${session.token}`,
      }})
    })
    // Each event holds one or more lines (`data:` fields), as Logplex sends them.
    .on('GET', '/logplex/sessions/:id', request => {
      const session = logplex.sessions.get(request.params.id)
      if (!session || request.query.get('srv') !== session.token) throw new ApiError(404, 'not_found', 'Session not found.')
      const target = app(session.app.id)
      let sent = 0
      return new Reply({stream: {type: 'text/event-stream', body: (write, closed) => logplex.read(target, session, lines => {
        write(`id: ${++sent}\n${lines.map(line => `data: ${formatLine(line)}\n`).join('')}\n`)
      }, closed)}})
    })
    .on('GET', '/apps/:app/features', request => {
      const target = app(request.params.app)
      return FEATURES.map(([name, description]) => ({
        id: `${target.id.slice(0, 8)}-${name}`, name, description, enabled: Boolean(target.features[name]), state: 'general',
        display_name: name, doc_url: `https://devcenter.heroku.com/articles/${name}`, feedback_email: '', created_at: target.created_at, updated_at: target.updated_at,
      }))
    })
    // The app itself, through the router: its release in `X-Heroku-Release-Version` (SIMULATED: an app
    // sets that itself, from the runtime-dyno-metadata feature's HEROKU_RELEASE_VERSION).
    .on('GET', '/apps-web/:app(?:/.*)?', request => {
      const target = app(request.params.app)
      const path = request.path.slice(`/apps-web/${request.params.app}`.length) || '/'
      const answer = heroku.traffic.request(target, path + (request.query.size > 0 ? `?${request.query}` : ''))
      if (!answer) return new Reply({status: 503, text: 'Application Error'})
      return new Reply({status: answer.status, text: answer.body, headers: answer.version === undefined ? {} : {'X-Heroku-Release-Version': `v${answer.version}`}})
    })
}
