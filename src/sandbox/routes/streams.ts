import {ApiError} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {Reply, Router} from '../server/http.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// A release phase's output, as `output_stream_url` serves it: the text comes once the phase has ended.
export function streamRoutes(router: Router, heroku: Heroku) {
  router.on('GET', '/streams/:release', async request => {
    const found = [...heroku.state.apps.values()].flatMap(app => app.releases).find(r => r.id === request.params.release)
    if (!found) throw new ApiError(404, 'not_found', 'Stream not found.')
    while (found.status === 'pending') await sleep(50)
    return new Reply({text: found._output.join('\n') + '\n'})
  })
}
