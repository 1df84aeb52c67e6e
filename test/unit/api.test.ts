import assert from 'node:assert/strict'
import nock from 'nock'
import {findRelease, releasesAfter} from '../../src/lib/api/releases.js'
import {backupGate} from '../../src/lib/backups/gate.js'
import {Refused} from '../../src/lib/errors.js'
import {API, DATA_API, apiClient, useNock} from './client.js'

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString()
const attachment = (name: string, addonId = 'addon-1') => ({
  name, addon: {id: addonId, name: `postgresql-${addonId}`, app: {name: 'shop'}, plan: {name: 'heroku-postgresql:standard-0'}},
})
const backup = (num: number, fields: Record<string, unknown> = {}) => ({
  uuid: `u${num}`, num, from_name: 'DATABASE', from_type: 'pg_dump', to_type: 'gof3r', to_name: 'BACKUP', to_url: `https://b/${num}`,
  succeeded: true, created_at: hoursAgo(3), finished_at: hoursAgo(2), processed_bytes: 100, schedule: null, ...fields,
})

describe('the API layer', () => {
  useNock()

  it('turns a 404 release into a one-line refusal', async () => {
    const heroku = await apiClient()
    nock(API).get('/apps/shop/releases/999').reply(404, {id: 'not_found', message: 'Couldn\'t find that release.'})
    await assert.rejects(findRelease(heroku, 'shop', 'v999'), (error: Error) => error instanceof Refused && /Release v999 does not exist on shop/.test(error.message))
  })

  it('follows Next-Range pages until it has every release after a version', async () => {
    const heroku = await apiClient()
    const page = (from: number, to: number) => Array.from({length: from - to + 1}, (_, i) => ({version: from - i}))
    const api = nock(API)
      .get('/apps/shop/releases').matchHeader('range', 'version ..; max=100, order=desc').reply(206, page(150, 51), {'Next-Range': 'version ]51..; max=100, order=desc'})
      .get('/apps/shop/releases').matchHeader('range', 'version ]51..; max=100, order=desc').reply(206, page(50, 1))
    const found = await releasesAfter(heroku, 'shop', 20)
    assert.equal(found.length, 130)
    assert.equal(found.at(-1)!.version, 21)
    api.done()
  })
})

describe('the backup gate', () => {
  useNock()

  const gate = async (transfers: unknown[], options: Partial<Parameters<typeof backupGate>[2]> = {}) => {
    const heroku = await apiClient()
    nock(API).get('/apps/shop/addon-attachments').reply(200, [attachment('DATABASE')])
    nock(DATA_API).get('/client/v11/apps/shop/transfers').reply(200, transfers)
    return backupGate(heroku, 'shop', {maxAgeMs: 24 * 3600_000, capture: false, skip: false, dryRun: false, ...options})
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

  it('with capture, takes a backup of each stale database and waits for it', async () => {
    const done = nock(DATA_API)
      .post('/client/v11/databases/addon-1/backups').reply(201, backup(7, {finished_at: null, succeeded: null}))
      .get('/client/v11/apps/shop/transfers/u7').reply(200, backup(7, {finished_at: null, succeeded: null}))
      .get('/client/v11/apps/shop/transfers/u7').reply(200, backup(7))
    const {check, captured} = await gate([], {capture: true})
    assert.equal(check.outcome, 'passed')
    assert.deepEqual(captured, [{database: 'DATABASE (postgresql-addon-1)', backup: 'b007'}])
    done.done()
  })

  it('in a dry run, says it would capture and sends nothing', async () => {
    const {check} = await gate([], {capture: true, dryRun: true})
    assert.match(check.detail, /--capture-backup would capture a fresh backup first/)
    assert.equal(nock.pendingMocks().length, 0)
  })
})
