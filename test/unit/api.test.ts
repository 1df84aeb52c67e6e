import assert from 'node:assert/strict'
import nock from 'nock'
import {ApiFailure, path} from '../../src/lib/api/client.js'
import {findRelease, releasesAfter} from '../../src/lib/api/releases.js'
import {setMaintenance} from '../../src/lib/api/apps.js'
import {backupGate, backupStates} from '../../src/lib/backups/gate.js'
import {Refused} from '../../src/lib/errors.js'
import {collaboratorsOf, permissionsIn} from '../../src/lib/estate/access.js'
import {API, DATA_API, apiClient, useNock} from './client.js'

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString()
const attachment = (name: string, addonId = 'addon-1') => ({
  name, addon: {id: addonId, name: `postgresql-${addonId}`, app: {name: 'shop'}, plan: {name: 'heroku-postgresql:standard-0'}},
})
const backup = (num: number, fields: Record<string, unknown> = {}) => ({
  uuid: `u${num}`, num, from_name: 'DATABASE', from_type: 'pg_dump', to_type: 'gof3r', to_name: 'BACKUP', to_url: `https://b/${num}`,
  succeeded: true, created_at: hoursAgo(3), finished_at: hoursAgo(2), processed_bytes: 100, schedule: null, ...fields,
})
// nock 14 emits an error only when given an Error instance.
const networkError = (code: string) => Object.assign(new Error(`${code} (simulated)`), {code})
const failure = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as ApiFailure
  }
  assert.fail('expected a failure')
}

describe('the API layer', () => {
  useNock()

  it('turns a 404 release into a one-line refusal', async () => {
    const api = await apiClient()
    nock(API).get('/apps/shop/releases/999').reply(404, {id: 'not_found', message: 'Couldn\'t find that release.'})
    await assert.rejects(findRelease(api, 'shop', 'v999'), (error: Error) => error instanceof Refused && /Release v999 does not exist on shop/.test(error.message))
  })

  it('reads the user\'s app permissions from a team app\'s collaborators; an admin, a personal app, an unlisted user or a refused list lack nothing known', async () => {
    const api = await apiClient()
    const collaborator = (email: string, role: string, permissions: string[]) => ({user: {email}, role, permissions: permissions.map(name => ({name, description: name}))})
    const scope = nock(API)
      .get('/apps/team-app/collaborators').reply(200, [collaborator('boss@example.com', 'admin', ['view', 'deploy', 'operate', 'manage']), collaborator('Ana@Example.com', 'member', ['view', 'operate'])])
      .get('/apps/admin-app/collaborators').reply(200, [collaborator('ana@example.com', 'admin', ['view'])])
      .get('/apps/own-app/collaborators').reply(200, [collaborator('ana@example.com', 'owner', [])])
      .get('/apps/other-app/collaborators').reply(200, [collaborator('bob@example.com', 'member', ['view'])])
      .get('/apps/hidden-app/collaborators').reply(403, {id: 'forbidden', message: 'You do not have access to this resource.'})
    const team = await collaboratorsOf(api, 'team-app')
    assert.deepEqual(permissionsIn(team, 'ana@example.com'), ['operate', 'view'])
    for (const app of ['admin-app', 'own-app', 'other-app', 'hidden-app']) assert.equal(permissionsIn(await collaboratorsOf(api, app), 'ana@example.com'), undefined, app)
    assert.equal(permissionsIn(team, undefined), undefined, 'no account, nothing known')
    scope.done()
  })

  it('encodes every path segment: `v50/../51` stays one segment', () => {
    assert.equal(path`/apps/${'shop?x=1'}/releases/${'v50/../51'}`, '/apps/shop%3Fx%3D1/releases/v50%2F..%2F51')
  })

  it('follows Next-Range pages until it has every release after a version', async () => {
    const api = await apiClient()
    const page = (from: number, to: number) => Array.from({length: from - to + 1}, (_, i) => ({version: from - i}))
    const scope = nock(API)
      .get('/apps/shop/releases').matchHeader('range', 'version ..; max=100, order=desc').reply(206, page(150, 51), {'Next-Range': 'version ]51..; max=100, order=desc'})
      .get('/apps/shop/releases').matchHeader('range', 'version ]51..; max=100, order=desc').reply(206, page(50, 1))
    const found = await releasesAfter(api, 'shop', 20)
    assert.equal(found.length, 130)
    assert.equal(found.at(-1)!.version, 21)
    scope.done()
  })

  it('retries a read after a 503 and a lost connection, with back-off', async () => {
    const api = await apiClient()
    const scope = nock(API)
      .get('/apps/shop').reply(503, {id: 'unavailable', message: 'The API is unavailable.'})
      .get('/apps/shop').replyWithError(networkError('ECONNRESET'))
      .get('/apps/shop').reply(200, {id: 'a1', name: 'shop', maintenance: false})
    assert.equal((await api.get<{name: string}>('/apps/shop')).name, 'shop')
    scope.done()
  })

  it('honours Retry-After on a 429 before reading again', async () => {
    const api = await apiClient()
    const scope = nock(API)
      .get('/apps/shop').reply(429, {id: 'rate_limit', message: 'Your account reached the API rate limit.'}, {'Retry-After': '1'})
      .get('/apps/shop').reply(200, {name: 'shop'})
    const started = Date.now()
    await api.get('/apps/shop')
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`)
    scope.done()
  })

  it('gives up on a read after its attempts, with the API\'s message', async () => {
    const api = await apiClient({attempts: 2})
    nock(API).get('/apps/shop').times(2).reply(503, {id: 'unavailable', message: 'The API is unavailable.'})
    const error = await failure(api.get('/apps/shop'))
    assert.equal(error.status, 503)
    assert.equal(error.message, 'The API is unavailable.')
  })

  it('never sends a POST twice: a lost answer is a failure that may have been applied', async () => {
    const api = await apiClient()
    // Room for a second attempt: the CLI's own client would take it (it repeats any method after a reset).
    nock(API).post('/apps/shop/releases').times(2).replyWithError(networkError('ECONNRESET'))
    const error = await failure(api.post('/apps/shop/releases', {body: {release: 'r1'}}))
    assert.equal(error.applied, 'unknown')
    assert.equal(nock.pendingMocks().length, 1, 'the POST was sent once')
  })

  it('says a 5xx on a POST may have been applied, and a 4xx was not', async () => {
    const api = await apiClient()
    nock(API).post('/apps/shop/releases').reply(500, {id: 'internal_server_error', message: 'Internal server error.'})
    assert.equal((await failure(api.post('/apps/shop/releases'))).applied, 'unknown')
    nock(API).post('/apps/shop/releases').reply(422, {id: 'invalid_params', message: 'Release cannot be rolled back to.'})
    assert.equal((await failure(api.post('/apps/shop/releases'))).applied, false)
    nock(API).post('/apps/shop/releases').replyWithError(networkError('ECONNREFUSED'))
    assert.equal((await failure(api.post('/apps/shop/releases'))).applied, false)
  })

  it('repeats an idempotent write (maintenance off) after a 503', async () => {
    const api = await apiClient()
    const scope = nock(API)
      .patch('/apps/shop', {maintenance: false}).reply(503, {id: 'unavailable', message: 'The API is unavailable.'})
      .patch('/apps/shop', {maintenance: false}).reply(200, {maintenance: false})
    await setMaintenance(api, 'shop', false)
    scope.done()
  })

  it('gives up on a request that hangs after the request timeout', async () => {
    const api = await apiClient({timeoutMs: 100, attempts: 1})
    nock(API).post('/apps/shop/releases').delay(2000).reply(201, {})
    const error = await failure(api.post('/apps/shop/releases'))
    assert.equal(error.id, 'ETIMEDOUT')
    assert.equal(error.applied, 'unknown')
  })

  it('stops a read at once when the signal fires', async () => {
    const control = new AbortController()
    const api = await apiClient({signal: control.signal})
    nock(API).get('/apps/shop').delay(2000).reply(200, {})
    setTimeout(() => control.abort(), 50)
    const started = Date.now()
    const error = await failure(api.get('/apps/shop'))
    assert.equal(error.id, 'aborted')
    assert.ok(Date.now() - started < 1500)
  })
})

describe('the backup gate', () => {
  useNock()

  const gate = async (transfers: unknown[], options: Partial<Parameters<typeof backupGate>[1]> = {}) => {
    const api = await apiClient()
    nock(API).get('/apps/shop/addon-attachments').reply(200, [attachment('DATABASE')])
    nock(DATA_API).get('/client/v11/apps/shop/transfers').reply(200, transfers)
    const states = await backupStates(api, 'shop', 24 * 3600_000)
    return backupGate(states, {maxAgeMs: 24 * 3600_000, capture: false, skip: false, dryRun: false, ...options})
  }

  it('passes with a recent successful backup', async () => {
    const {check} = await gate([backup(1)])
    assert.equal(check.outcome, 'passed')
    assert.match(check.detail, /DATABASE \(postgresql-addon-1\): newest good backup b001 is 2h old \(limit 1d\)/)
  })

  it('ignores failed backups and backups of other databases', async () => {
    const {check} = await gate([backup(1, {finished_at: hoursAgo(30)}), backup(2, {succeeded: false}), backup(3, {from_name: 'HEROKU_POSTGRESQL_TEAL'})])
    assert.equal(check.outcome, 'failed')
    assert.match(check.detail, /newest good backup b001 is 1d 6h old/)
  })

  it('with capture, passes and names the stale databases to capture after the confirmation, sending nothing', async () => {
    const {check, capture} = await gate([backup(4, {finished_at: hoursAgo(30)})], {capture: true})
    assert.equal(check.outcome, 'passed')
    assert.match(check.detail, /a fresh backup is captured first, after the confirmation/)
    assert.deepEqual(capture.map(s => [s.label, s.newestNum]), [['DATABASE (postgresql-addon-1)', 4]])
    assert.equal(nock.pendingMocks().length, 0)
  })
})
