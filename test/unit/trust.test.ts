import assert from 'node:assert/strict'
import nock from 'nock'
import {interpreter} from '../../src/lib/registry.js'
import type {RunRecord} from '../../src/lib/runner/log.js'
import {trustedPlan} from '../../src/lib/runner/trust.js'
import {API, apiClient, useNock} from './client.js'

// recovery:resume --continue and the steps of a run log about another app than the run's: the estate's
// kinds (db:recover moves every app on the database) while that app still shares a database with the
// run's app; any other kind never.

const run = (steps: Record<string, unknown>[]): RunRecord => ({
  id: '261206-120000-abcd', app: 'shop', command: 'db:recover', startedAt: '2026-12-06T12:00:00Z', file: '/runs/shop/x.jsonl',
  steps: steps.map(data => ({id: data.id, data})),
}) as unknown as RunRecord
const attachments = (app: string, addons: string[]) => addons.map((id, i) => ({id: `${app}-${i}`, name: `DB${i}`, app: {name: app}, addon: {id, name: id}}))
const created = {ref: 'create-database'}

describe('recovery:resume --continue: steps about another app than the run\'s', () => {
  useNock()

  it('trusts the estate\'s steps for an app that still shares a database with the run\'s app', async () => {
    nock(API).get('/apps/shop/addon-attachments').times(3).reply(200, attachments('shop', ['old', 'new']))
    nock(API).get('/apps/shop-worker/addon-attachments').times(3).reply(200, attachments('shop-worker', ['old']))
    const steps = [
      {id: 'maintenance-on:shop-worker', kind: 'app-maintenance', app: 'shop-worker', on: true, with: 'shop'},
      {id: 'scale-down:shop-worker', kind: 'app-scale', app: 'shop-worker', formation: [{type: 'worker', quantity: 2}], down: true, with: 'shop'},
      {id: 'reattach:shop-worker:DATABASE', kind: 'reattach-database', app: 'shop-worker', name: 'DATABASE', namespace: null, old: {id: 'old', name: 'old'}, created},
    ]
    assert.deepEqual(await trustedPlan(interpreter, await apiClient(), run(steps)), steps)
  })

  it('refuses them for an app that shares no database with it, and any other kind of step about another app', async () => {
    nock(API).get('/apps/shop/addon-attachments').reply(200, attachments('shop', ['new']))
    nock(API).get('/apps/elsewhere/addon-attachments').reply(200, attachments('elsewhere', ['theirs']))
    const steps = [
      {id: 'reattach:elsewhere:DATABASE', kind: 'reattach-database', app: 'elsewhere', name: 'DATABASE', namespace: null, old: {id: 'old', name: 'old'}, created},
      {id: 'maintenance-on', kind: 'maintenance', app: 'shop-worker', on: true},
    ]
    await assert.rejects(trustedPlan(interpreter, await apiClient(), run(steps)), (error: Error) => {
      assert.match(error.message, /reattach:elsewhere:DATABASE: elsewhere shares no database with shop/)
      assert.match(error.message, /maintenance-on: it is for shop-worker, and the run was on shop/)
      assert.match(error.message, /Nothing was changed/)
      return true
    })
  })
})
