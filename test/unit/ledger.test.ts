import assert from 'node:assert/strict'
import {due, type Entry, kept, standing, unsettled} from '../../src/lib/runner/ledger.js'
import type {Undo} from '../../src/lib/runner/step.js'

// The one account of what a run left, on entries as the runner keeps them and as the run log folds them.

const maintenanceOff = {title: 'Turn maintenance mode off', command: 'heroku maintenance:off --app shop', automatic: true, action: {kind: 'maintenance', app: 'shop', on: false}} as const
const reapply: Undo = {title: 'Apply the reverted migrations again', command: 'npx prisma migrate deploy', automatic: true, action: {kind: 'reapply-migrations', app: 'shop', database: 'DATABASE', migrations: []}}
const rollBackAgain = {title: 'Roll back to v52 again', command: 'heroku safe-rollback v52 --app shop', automatic: false} as const

const entry = (id: string, fields: Partial<Entry> = {}): Entry => ({id, state: 'done', applied: true, ...fields})

describe('the ledger', () => {
  it('owes the automatic undos of changes that stand, newest first', () => {
    const entries = [entry('maintenance-on', {undo: maintenanceOff}), entry('scale-down', {undo: {...maintenanceOff, title: 'Scale back'}}), entry('switch', {state: 'failed', applied: false})]
    assert.deepEqual(due(entries).map(e => e.id), ['scale-down', 'maintenance-on'])
    assert.deepEqual(kept(entries), [])
  })

  it('owes nothing for a change a later step put back, or that was undone', () => {
    const entries = [entry('maintenance-on', {undo: maintenanceOff, putBack: true}), entry('scale-down', {state: 'undone', undo: maintenanceOff}), entry('maintenance-off')]
    assert.deepEqual(standing(entries), [])
    assert.deepEqual(due(entries), [])
  })

  it('keeps a change a later change relies on, and names it among what stays done with its undo', () => {
    // safe-rollback --with-migrations: the revert stays once the rollback release exists.
    const entries = [entry('maintenance-on', {undo: maintenanceOff}), entry('revert', {undo: reapply}), entry('rollback', {undo: rollBackAgain, needs: ['revert']})]
    assert.deepEqual(due(entries).map(e => e.id), ['maintenance-on'])
    assert.deepEqual(kept(entries).map(e => e.undo!.command), ['heroku safe-rollback v52 --app shop', 'npx prisma migrate deploy'])
  })

  it('a change whose later reliance never came into being is owed its undo', () => {
    const entries = [entry('revert', {undo: reapply}), entry('rollback', {state: 'failed', applied: false, needs: ['revert']})]
    assert.deepEqual(due(entries).map(e => e.id), ['revert'])
  })

  it('a put-back that failed is still owed', () => {
    assert.deepEqual(due([entry('maintenance-on', {state: 'undo failed', undo: maintenanceOff})]).map(e => e.id), ['maintenance-on'])
  })

  it('lists work still running at Heroku until it settles', () => {
    const restore = {running: 'Restore r005', settle: {kind: 'await-transfer', billingApp: 'shop', uuid: 'u', name: 'r005'}} as const
    assert.deepEqual(unsettled([entry('restore', {running: restore}), entry('other')]).map(e => e.id), ['restore'])
    assert.deepEqual(unsettled([entry('restore', {running: restore, settled: true})]), [])
  })
})
