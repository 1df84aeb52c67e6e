import {ApiError, notFound} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {Reply, Request, Router} from '../server/http.js'
import {Addon, App, Attachment, dynoName, Release, now} from '../heroku/state.js'

// The Platform API (api.heroku.com) as far as this plugin and the core commands it is checked with use it.

const publicFields = <T extends object>(record: T) =>
  Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith('_')))

export function releaseJson(app: App, release: Release) {
  return {...publicFields(release), app: {id: app.id, name: app.name}}
}

// The app's web URL is on the sandbox's own host (routes/logs.ts answers it), so that a person or a
// test can reach the app there.
function appJson(heroku: Heroku, app: App) {
  const {releases: _r, slugs: _s, formation: _f, config: _c, faults: _x, dynoStates: _d, traffic: _t, features: _e, serving: _v, permissions: _p, ...rest} = app
  return {
    ...rest, web_url: `${heroku.url}/apps-web/${app.name}/`, git_url: `https://git.heroku.com/${app.name}.git`, acm: false, buildpack_provided_description: 'Node.js',
    archived_at: null, create_status: 'complete', internal_routing: null, locked: false,
    repo_size: 5_242_880, slug_size: 52_428_800,
  }
}

// `heroku apps:info` lists the collaborators other than the owner: on a personal app the owner is the
// only one; on a team app the sandbox user is a member, with the app permissions the scenario gave.
const PERMISSION_DESCRIPTIONS: Record<string, string> = {
  view: 'Can view the app, its activity, builds, releases and dynos.',
  deploy: 'Can deploy code, change config vars and add-ons, run one-off dynos and roll back.',
  operate: 'Can scale, restart and put the app in maintenance mode.',
  manage: 'Can manage the app: access, rename, transfer, delete, paid add-ons.',
}

function collaboratorsJson(heroku: Heroku, app: App) {
  const {user} = heroku.state
  const entry = (role: string, who: {id: string, email: string}, permissions: string[]) => ({
    app: {id: app.id, name: app.name}, created_at: app.created_at, updated_at: app.created_at, id: who.id,
    permissions: permissions.map(name => ({name, description: PERMISSION_DESCRIPTIONS[name]})), role, user: {email: who.email, federated: false, id: who.id},
  })
  return app.team ? [entry('member', user, app.permissions ?? Object.keys(PERMISSION_DESCRIPTIONS))] : [entry('owner', app.owner, [])]
}

// What a team app's permissions let its members change (Heroku's app permissions matrix): maintenance
// mode and scaling are operate's, config vars (attachments set them) and rollbacks deploy's; manage has both.
const GRANTED_BY = {operate: ['operate', 'manage'], deploy: ['deploy', 'manage']}
function permitted(target: App, needs: keyof typeof GRANTED_BY) {
  if (target.permissions && !GRANTED_BY[needs].some(p => target.permissions!.includes(p))) throw new ApiError(403, 'forbidden', 'You do not have access to this resource.')
}

export function addonJson(addon: Addon) {
  return publicFields(addon)
}

export function attachmentJson(heroku: Heroku, attachment: Attachment) {
  const addon = heroku.state.addons.get(attachment.addon.id)
  return {
    ...attachment,
    addon: {...attachment.addon, plan: addon?.plan, config_vars: addon?.config_vars, addon_service: addon?.addon_service},
  }
}

// Range: `version ..; max=10, order=desc` or, for the next page, `version ]41..; max=10, order=desc`.
function paginate(releases: Release[], range: string | undefined) {
  const found = /^\s*(\w+)\s+(\]?)([^.;]*)\.\.([^;]*)(?:;\s*(.*))?$/.exec(range ?? '')
  const options = Object.fromEntries((found?.[5] ?? '').split(',').map(part => part.trim().split('=')).filter(kv => kv.length === 2))
  const max = Math.min(Number(options.max ?? 200), 1000)
  const order = options.order === 'desc' ? 'desc' : 'asc'
  let list = [...releases].sort((a, b) => a.version - b.version)
  if (order === 'desc') list.reverse()
  const after = found?.[2] === ']' && found[3] ? Number(found[3]) : undefined
  if (after !== undefined) list = list.filter(r => (order === 'desc' ? r.version < after : r.version > after))
  const page = list.slice(0, max)
  const more = list.length > max
  const headers: Record<string, string> = {'Content-Range': `version ${page[0]?.version ?? ''}..${page.at(-1)?.version ?? ''}`}
  if (more) headers['Next-Range'] = `version ]${page.at(-1)!.version}..; max=${max}, order=${order}`
  return {page, status: more ? 206 : 200, headers}
}

export function platformRoutes(router: Router, heroku: Heroku) {
  const {state} = heroku
  const app = (request: Request) => {
    const found = state.app(request.params.app)
    if (!found) throw notFound('app')
    return found
  }

  const release = (target: App, idOrVersion: string) => {
    const version = idOrVersion.replace(/^v/, '')
    const found = target.releases.find(r => r.id === idOrVersion || String(r.version) === version)
    if (!found) throw notFound('release')
    return found
  }

  const addon = (key: string, target?: App) => {
    const found = state.addons.get(key) ?? [...state.addons.values()].find(a => a.name === key)
      ?? (target && state.attachmentsOf(target).filter(a => a.name === key.replace(/_URL$/, '')).map(a => state.addons.get(a.addon.id))[0])
    if (!found || found.state === 'deprovisioned') throw notFound('add-on')
    return found
  }

  router
    .on('GET', '/account', () => ({...state.user, name: 'Sandbox User', verified: true}))
    // `heroku apps` (the user's apps), `heroku apps --all`; the sandbox has no teams.
    .on('GET', '/users/~/apps', () => [...state.apps.values()].map(a => appJson(heroku, a)))
    .on('GET', '/apps', () => [...state.apps.values()].map(a => appJson(heroku, a)))
    .on('GET', '/teams/:team/apps', () => {
      throw notFound('team')
    })
    .on('GET', '/apps/:app', request => appJson(heroku, app(request)))
    .on('GET', '/apps/:app/collaborators', request => collaboratorsJson(heroku, app(request)))
    // `heroku access:update EMAIL --app APP --permissions ...`: in the sandbox, its one user is also the team's admin.
    .on('PATCH', '/teams/apps/:app/collaborators/:email', request => {
      const target = app(request)
      if (!target.team || request.params.email.toLowerCase() !== state.user.email) throw notFound('collaborator')
      const permissions = request.body?.permissions
      if (!Array.isArray(permissions)) throw new ApiError(422, 'invalid_params', 'Missing required params: permissions.')
      target.permissions = permissions.map(String)
      return collaboratorsJson(heroku, target)[0]
    })
    // An app in no pipeline: Heroku answers 404, which `heroku apps:info` expects.
    .on('GET', '/apps/:app/pipeline-couplings', request => {
      app(request)
      throw notFound('pipeline coupling')
    })
    .on('PATCH', '/apps/:app', request => {
      const target = app(request)
      permitted(target, 'operate')
      if (typeof request.body?.maintenance === 'boolean') target.maintenance = request.body.maintenance
      target.updated_at = now()
      return appJson(heroku, target)
    })

    .on('GET', '/apps/:app/releases', request => {
      const target = app(request)
      const {page, status, headers} = paginate(target.releases, request.headers.range as string | undefined)
      return new Reply({status, headers, body: page.map(r => releaseJson(target, r))})
    })
    .on('GET', '/apps/:app/releases/:release', request => {
      const target = app(request)
      return releaseJson(target, release(target, request.params.release))
    })
    .on('GET', '/apps/:app/releases/:release/config-vars', request => {
      const target = app(request)
      return release(target, request.params.release)._config
    })
    .on('POST', '/apps/:app/releases', request => {
      const target = app(request)
      permitted(target, 'deploy')
      const id = request.body?.release
      if (!id) throw new ApiError(422, 'invalid_params', 'Missing required params: release.')
      const chosen = release(target, String(id))
      if (target.faults.rollback) {
        const {status, id: errorId, message} = target.faults.rollback
        throw new ApiError(status, errorId, message)
      }
      if (chosen.status === 'expired') throw new ApiError(422, 'invalid_params', `Release v${chosen.version} has expired: its slug was deleted, so it cannot be rolled back to.`)
      if (chosen.status !== 'succeeded') throw new ApiError(422, 'invalid_params', `Release v${chosen.version} cannot be rolled back to because it ${chosen.status === 'failed' ? 'failed' : 'is not complete'}.`)
      return releaseJson(target, heroku.rollback(target, chosen))
    })

    .on('GET', '/apps/:app/slugs/:slug', request => {
      const slug = app(request).slugs.find(s => s.id === request.params.slug)
      if (!slug) throw notFound('slug')
      const {_archive, ...fields} = slug
      return {
        ...fields, blob: _archive ? {method: 'get', url: `${heroku.url}/slug-blobs/${slug.id}`} : null, buildpack_provided_description: 'Node.js', checksum: null, size: 52_428_800,
        stack: {id: '', name: 'heroku-24'}, updated_at: slug.created_at,
      }
    })

    .on('GET', '/apps/:app/config-vars', request => app(request).config)
    .on('PATCH', '/apps/:app/config-vars', request => {
      const target = app(request)
      permitted(target, 'deploy')
      const changes = (request.body ?? {}) as Record<string, string | null>
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete target.config[key]
        else target.config[key] = String(value)
      }
      const set = Object.keys(changes).filter(key => changes[key] !== null)
      const removed = Object.keys(changes).filter(key => changes[key] === null)
      const description = set.length > 0 ? `Set ${set.join(', ')} config vars` : `Remove ${removed.join(', ')} config vars`
      state.addRelease(target, {description})
      return target.config
    })

    .on('GET', '/apps/:app/dynos', request => {
      const target = app(request)
      return target.formation.flatMap(process => Array.from({length: process.quantity}, (_, i) => {
        const key = `${process.type}.${i + 1}`
        const dyno = target.dynoStates[key] ?? {state: 'up', version: state.currentRelease(target)?.version ?? 1}
        const rel = target.releases.find(r => r.version === dyno.version)
        const name = dynoName(target, key, dyno.version)
        return {
          id: `${target.id.slice(0, 8)}-${key}`, name, type: process.type, state: dyno.state, command: process.command,
          size: process.size, attach_url: null, created_at: now(), updated_at: now(),
          release: {id: rel?.id, version: dyno.version}, app: {id: target.id, name: target.name},
        }
      }))
    })
    .on('GET', '/apps/:app/formation', request => {
      const target = app(request)
      return target.formation.map(process => ({...process, app: {id: target.id, name: target.name}, created_at: target.created_at, updated_at: now()}))
    })
    .on('PATCH', '/apps/:app/formation', request => {
      const target = app(request)
      permitted(target, 'operate')
      for (const update of request.body?.updates ?? []) heroku.scale(target, update.type, update.quantity)
      return target.formation
    })
    .on('PATCH', '/apps/:app/formation/:type', request => {
      const target = app(request)
      permitted(target, 'operate')
      return heroku.scale(target, request.params.type, request.body?.quantity)
    })

    .on('GET', '/apps/:app/addons', request => state.addonsOf(app(request)).map(addonJson))
    .on('GET', '/apps/:app/addons/:addon', request => addonJson(addon(request.params.addon, app(request))))
    .on('GET', '/addons/:addon', request => addonJson(addon(request.params.addon)))
    .on('DELETE', '/apps/:app/addons/:addon', request => addonJson(heroku.destroyAddon(addon(request.params.addon, app(request)))))
    .on('POST', '/actions/addons/resolve', request => {
      const {addon: key, app: appName} = request.body ?? {}
      const target = appName ? state.app(appName) : undefined
      const matches = [...state.addons.values()].filter(a => a.state !== 'deprovisioned' && (a.id === key || a.name === key))
      if (matches.length === 0 && target) {
        const byAttachment = state.attachmentsOf(target).filter(a => a.name === String(key).replace(/_URL$/, ''))
        matches.push(...byAttachment.map(a => state.addons.get(a.addon.id)!))
      }
      if (matches.length === 0) throw notFound('add-on')
      return matches.map(addonJson)
    })

    .on('GET', '/apps/:app/addon-attachments', request => state.attachmentsOf(app(request)).map(a => attachmentJson(heroku, a)))
    .on('GET', '/addons/:addon/addon-attachments', request => {
      const target = addon(request.params.addon)
      return [...state.attachments.values()].filter(a => a.addon.id === target.id).map(a => attachmentJson(heroku, a))
    })
    .on('POST', '/actions/addon-attachments/resolve', request => {
      const {addon_attachment: key, app: appName} = request.body ?? {}
      let name = String(key ?? '')
      let target = appName ? state.app(appName) : undefined
      if (name.includes('::')) {
        const [appPart, attachmentPart] = name.split('::')
        target = state.app(appPart)
        name = attachmentPart
      }
      if (!target) throw notFound('app')
      const wanted = name.replace(/_URL$/, '').toUpperCase()
      const matches = state.attachmentsOf(target).filter(a => a.name.toUpperCase() === wanted || a.addon.name === name || a.addon.id === name)
      if (matches.length === 0) throw notFound('add-on attachment')
      return matches.map(a => attachmentJson(heroku, a))
    })
    .on('POST', '/addon-attachments', request => {
      const {addon: addonRef, app: appRef, name, confirm, namespace} = request.body ?? {}
      const target = state.app(appRef?.name ?? appRef?.id ?? appRef)
      if (!target) throw notFound('app')
      permitted(target, 'deploy')
      const chosen = addon(addonRef?.name ?? addonRef?.id ?? addonRef)
      const attachmentName = name ?? heroku.colorName(target)
      const existing = state.attachmentsOf(target).find(a => a.name === attachmentName)
      if (existing && confirm !== target.name) {
        throw new ApiError(422, 'confirmation_required', `Attaching ${chosen.name} as ${attachmentName} replaces an existing attachment. Confirm with the app name.`)
      }
      return attachmentJson(heroku, heroku.attachWithRelease(target, chosen, attachmentName, existing, namespace ?? null))
    })
    .on('DELETE', '/addon-attachments/:id', request => {
      const attachment = state.attachments.get(request.params.id)
      if (!attachment) throw notFound('add-on attachment')
      const target = state.app(attachment.app.id)!
      permitted(target, 'deploy')
      state.detach(target, attachment)
      state.addRelease(target, {description: `Detach ${attachment.name} (@ref:${attachment.addon.name})`})
      return attachmentJson(heroku, attachment)
    })
}
