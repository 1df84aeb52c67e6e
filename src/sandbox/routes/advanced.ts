import {isAdvanced, levelOf} from '../heroku/advanced.js'
import {notFound} from '../heroku/errors.js'
import type {Heroku} from '../heroku/heroku.js'
import {rollbackWindowMs} from '../heroku/point-in-time.js'
import type {Addon} from '../heroku/state.js'
import type {Request, Router} from '../server/http.js'

// The Data API of Heroku Postgres Advanced (/data/postgres/v1 on the data host), as `heroku data:pg:info`,
// `data:pg:wait` and `data:pg:fork` read it: shapes from the CLI's lib/data/types (InfoResponse, WaitStatus).
export function advancedRoutes(router: Router, heroku: Heroku) {
  const {state} = heroku
  const advanced = (request: Request): Addon => {
    const addon = state.addons.get(request.params.id)
    if (!addon || addon.state === 'deprovisioned' || !isAdvanced(addon)) throw notFound('database')
    return addon
  }
  const waitStatus = (addon: Addon) => addon.state === 'provisioning' ? {waiting: true, message: 'provisioning'}
    : (addon._availableAt ?? 0) > Date.now() ? {waiting: true, message: 'preparing'} : {waiting: false, message: 'available'}

  router
    .on('GET', '/data/postgres/v1/:id/wait_status', request => waitStatus(advanced(request)))
    .on('GET', '/data/postgres/v1/:id/info', request => {
      const addon = advanced(request)
      const createdAt = addon._database?.createdAt ?? Date.parse(addon.created_at)
      const earliest = new Date(Math.max(createdAt, Date.now() - rollbackWindowMs(addon.plan.name))).toISOString()
      const forkedFrom = addon._restoredFrom && [...state.addons.values()].find(a => a.name === addon._restoredFrom!.addon)
      const wait = waitStatus(addon)
      return {
        addon: {id: addon.id, name: addon.name}, app: {id: addon.app.id, name: addon.app.name}, created_at: addon.created_at,
        features: {
          continuous_protection: {enabled: true}, credentials: {current_count: 1, enabled: true}, data_encryption: {enabled: true},
          fork: {enabled: true}, highly_available: {enabled: false},
          rollback: {enabled: true, earliest_time: earliest, latest_time: new Date().toISOString()},
        },
        forked_from: forkedFrom ? {id: forkedFrom.id, name: forkedFrom.name} : null,
        plan_limits: [], quotas: [], region: 'us', status: wait.waiting ? 'provisioning' : 'available', tier: 'advanced', version: '17',
        pools: [{
          compute_instances: [], connections_used: null, endpoints: [{host: '127.0.0.1', port: heroku.pg.port, status: 'available'}],
          expected_connection_limit: 400, expected_count: 1, expected_level: levelOf(addon), id: `${addon.id}-leader`,
          metrics_sources: {cluster: null, database: null, leader: null}, name: 'leader', status: wait.waiting ? 'provisioning' : 'available', wait_status: wait,
        }, ...(addon._pools ?? []).map(pool => ({
          compute_instances: [], connections_used: null, endpoints: [], expected_connection_limit: 400, expected_count: pool.count, expected_level: pool.level,
          id: `${addon.id}-${pool.name}`, metrics_sources: {cluster: null, database: null, leader: null}, name: pool.name, status: 'available', wait_status: {waiting: false, message: null},
        }))],
      }
    })
}
