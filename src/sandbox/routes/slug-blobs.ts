import {ApiError} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {Reply, Router} from '../server/http.js'

// Slug archives, as the signed storage URLs of `blob.url` serve them: no API key needed.
export function slugBlobRoutes(router: Router, heroku: Heroku) {
  router.on('GET', '/slug-blobs/:slug', request => {
    const slug = [...heroku.state.apps.values()].flatMap(app => app.slugs).find(s => s.id === request.params.slug)
    if (!slug?._archive) throw new ApiError(404, 'not_found', 'No such blob.')
    return new Reply({bytes: slug._archive})
  })
}
