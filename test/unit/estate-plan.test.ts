import assert from 'node:assert/strict'
import {blocking} from '../../src/lib/checks.js'
import type {Estate} from '../../src/lib/estate/gather.js'
import {estateChecks, type EstateInput, estateWarnings, moveCommand, moveSteps, planEstate, quietOthers, TOGETHER} from '../../src/lib/estate/plan.js'
import {estateClosing, estateOutcome, estateUnfinished} from '../../src/lib/estate/render.js'
import type {RunOutcome} from '../../src/lib/runner/runner.js'
import {writersOf} from '../../src/lib/reconcile/gather.js'

// The estate's planning is pure: the attachments of a database on every app in, what becomes of each app
// and attachment out, and the steps as data.

const POOL = 'connection-pooling:default'
const OLD = {id: 'db-1', name: 'postgresql-old-1'}
const created = {ref: 'create-database'}

const estate = (fields: Partial<Estate> = {}): Estate => ({
  attachments: [
    {app: 'shop', name: 'DATABASE', namespace: null},
    {app: 'shop', name: 'HEROKU_POSTGRESQL_RED', namespace: null},
    {app: 'shop', name: 'DATABASE_CONNECTION_POOL', namespace: POOL},
    {app: 'shop', name: 'SHOP_POOL', namespace: POOL},
    {app: 'worker', name: 'DATABASE', namespace: null},
    {app: 'worker', name: 'JOBS_POOL', namespace: POOL},
    {app: 'reports', name: 'REPORTING_DB', namespace: null},
    {app: 'reports', name: 'ANALYST', namespace: 'credential:analyst'},
  ],
  others: [
    {app: 'reports', maintenance: true, formation: [{type: 'web', quantity: 1}]},
    {app: 'worker', maintenance: false, formation: [{type: 'web', quantity: 0}, {type: 'worker', quantity: 2}, {type: 'clock', quantity: 1}, {type: 'release', quantity: 0}]},
  ],
  ...fields,
})

const input = (fields: Partial<EstateInput> = {}): EstateInput => ({
  app: 'shop', database: OLD.name, attachmentOrder: ['DATABASE', 'HEROKU_POSTGRESQL_RED', 'DATABASE_CONNECTION_POOL', 'SHOP_POOL'],
  promoteAs: 'DATABASE', hasPooler: true, quiet: true, maintenance: true, scaleDownWorkers: true,
  own: {maintenance: true, alreadyOn: false, formation: [{type: 'web', quantity: 2}, {type: 'worker', quantity: 1}]}, ...fields,
})

const fates = (plan: ReturnType<typeof planEstate>) => Object.fromEntries(plan.apps.map(a => [a.app, a.attachments.map(e => `${e.name}:${e.fate}`)]))

describe('planEstate', () => {
  it('a point-in-time recovery: the promote, the kept alias and the pooler pg:promote moves stay with the recovering app; everything else moves, under the same name', () => {
    const plan = planEstate(estate(), input())
    assert.equal(plan.alias, 'HEROKU_POSTGRESQL_RED')
    assert.deepEqual(fates(plan), {
      shop: ['DATABASE:promoted', 'HEROKU_POSTGRESQL_RED:kept alias', 'DATABASE_CONNECTION_POOL:pooler re-attached', 'SHOP_POOL:moves'],
      reports: ['REPORTING_DB:moves', 'ANALYST:left: credential'],
      worker: ['DATABASE:moves', 'JOBS_POOL:moves'],
    })
    const steps = moveSteps(plan, OLD, created)
    assert.deepEqual(steps.map(s => s.id), ['reattach:shop:SHOP_POOL', 'reattach:reports:REPORTING_DB', 'reattach:worker:DATABASE', 'reattach:worker:JOBS_POOL', 'estate-check'])
    assert.deepEqual(steps[3], {id: 'reattach:worker:JOBS_POOL', kind: 'reattach-database', app: 'worker', name: 'JOBS_POOL', namespace: POOL, old: OLD, created, together: `${TOGETHER.reattach} (2)`})
    assert.deepEqual(steps[4], {id: 'estate-check', kind: 'estate-check', app: 'shop', old: OLD, created, left: [{app: 'reports', name: 'ANALYST', namespace: 'credential:analyst'}]})
  })

  it('the other apps are quieted inside the recovering app\'s quiet, each with its own steps, and put back newest first; web and release are not writers', () => {
    const plan = planEstate(estate(), input())
    assert.deepEqual(plan.apps.map(a => [a.app, a.maintenance, a.workers]), [
      ['shop', 'on', [{type: 'worker', quantity: 1}]],
      ['reports', 'already on', []],
      ['worker', 'on', [{type: 'worker', quantity: 2}, {type: 'clock', quantity: 1}]],
    ])
    const during = [{id: 'restore', kind: 'follower-check', app: 'shop', created} as const]
    assert.deepEqual(quietOthers(plan, during).map(s => `${s.id}${s.putsBack ? `<${s.putsBack}` : ''}`), [
      'maintenance-on:worker', 'scale-down:worker', 'restore', 'scale-back:worker<scale-down:worker', 'maintenance-off:worker<maintenance-on:worker',
    ])
    assert.deepEqual(quietOthers(plan, [])[1], {id: 'scale-down:worker', kind: 'app-scale', app: 'worker', formation: [{type: 'worker', quantity: 2}, {type: 'clock', quantity: 1}], down: true, with: 'shop', together: TOGETHER.scaleDown})
    assert.deepEqual(estateWarnings(plan), [
      'reports is already in maintenance mode; it is left on afterwards.',
      'reports\'s ANALYST (credential:analyst) stays on postgresql-old-1: the new database has no such credential; create it (`heroku pg:credentials:create`) and attach it by hand.',
    ])
  })

  it('each phase of many apps is one group (the steps of different apps run together); no two moves of one app are in one group', () => {
    const many = estate({
      attachments: [...estate().attachments, {app: 'billing', name: 'DATABASE', namespace: null}],
      others: [...estate().others, {app: 'billing', maintenance: false, formation: [{type: 'worker', quantity: 1}]}],
    })
    const plan = planEstate(many, input())
    const during = [{id: 'restore', kind: 'follower-check', app: 'shop', created} as const]
    assert.deepEqual(quietOthers(plan, during).map(s => `${s.id}${s.together ? ` [${s.together}]` : ''}`), [
      `maintenance-on:worker [${TOGETHER.maintenanceOn}]`, `maintenance-on:billing [${TOGETHER.maintenanceOn}]`,
      `scale-down:worker [${TOGETHER.scaleDown}]`, `scale-down:billing [${TOGETHER.scaleDown}]`,
      'restore',
      `scale-back:billing [${TOGETHER.scaleBack}]`, `scale-back:worker [${TOGETHER.scaleBack}]`,
      `maintenance-off:billing [${TOGETHER.maintenanceOff}]`, `maintenance-off:worker [${TOGETHER.maintenanceOff}]`,
    ])
    assert.deepEqual(moveSteps(plan, OLD, created).map(s => `${s.id}${s.together ? ` [${s.together}]` : ''}`), [
      `reattach:shop:SHOP_POOL [${TOGETHER.reattach}]`, `reattach:reports:REPORTING_DB [${TOGETHER.reattach}]`,
      `reattach:worker:DATABASE [${TOGETHER.reattach}]`, `reattach:billing:DATABASE [${TOGETHER.reattach}]`,
      `reattach:worker:JOBS_POOL [${TOGETHER.reattach} (2)]`,
      'estate-check',
    ])
  })

  it('without --scale-down-workers and with --no-maintenance nothing of the others is quieted, and the writers are named', () => {
    const plan = planEstate(estate(), input({scaleDownWorkers: false, maintenance: false, own: {maintenance: false, alreadyOn: false, formation: []}}))
    assert.deepEqual(quietOthers(plan, []), [])
    assert.match(estateChecks(estate(), plan)[0].detail, /also use postgresql-old-1: not quieted \(see the warnings\), then moved to the new database\.$/)
    assert.ok(estateWarnings(plan).includes('worker\'s worker, clock dynos keep writing to postgresql-old-1 during the switch; --scale-down-workers stops them.'))
  })

  it('in place (no promote): every attachment stays, nothing moves, no read-back step', () => {
    const plan = planEstate(estate(), input({promoteAs: undefined}))
    assert.ok(plan.apps.every(a => a.attachments.every(e => e.fate === 'stays')))
    assert.equal(plan.alias, undefined)
  })

  it('a database only its app uses: no move and no read-back beyond the promote\'s own', () => {
    const alone = estate({attachments: [{app: 'shop', name: 'DATABASE', namespace: null}], others: []})
    assert.deepEqual(moveSteps(planEstate(alone, input()), OLD, created), [])
    assert.deepEqual(estateChecks(alone, planEstate(alone, input())), [])
  })

  it('an app that cannot be read refuses, naming it and how to detach it; a drill does not', () => {
    const denied = estate({others: [{app: 'reports', maintenance: false, formation: [], denied: 'you have no access to it (403)'}, estate().others[1]]})
    const checks = estateChecks(denied, planEstate(denied, input()))
    assert.deepEqual(blocking(checks).map(c => c.detail), [
      'reports also uses postgresql-old-1 (as REPORTING_DB, ANALYST), but you have no access to it (403): it could be neither quieted nor moved. Ask for access to reports, or detach it first: `heroku addons:detach REPORTING_DB --app reports`, `heroku addons:detach ANALYST --app reports`.',
    ])
    assert.deepEqual(estateChecks(denied, planEstate(denied, input({quiet: false, promoteAs: undefined}))), [])
    assert.deepEqual(planEstate(denied, input()).apps.find(a => a.app === 'reports')?.maintenance, 'no')
  })

  it('an app whose listed app permissions do not allow what the plan changes there refuses, naming what is lacking and how to grant it; what is not changed needs nothing', () => {
    // reports: view only (already in maintenance, so only REPORTING_DB moves there); worker: operate, scaled, but its attachments move.
    const team = estate({permissions: {reports: ['view'], worker: ['operate', 'view']}, email: 'ana@example.com'})
    const checks = blocking(estateChecks(team, planEstate(team, input())))
    assert.deepEqual(checks.map(c => [c.name, c.detail]), [
      ['app permissions', 'reports also uses postgresql-old-1 (as REPORTING_DB, ANALYST), but your app permissions on reports are view, and moving REPORTING_DB needs deploy (or manage). Ask a team admin to grant it (`heroku access:update ana@example.com --app reports --permissions view,deploy`), or detach it first: `heroku addons:detach REPORTING_DB --app reports`, `heroku addons:detach ANALYST --app reports`.'],
      ['app permissions', 'worker also uses postgresql-old-1 (as DATABASE, JOBS_POOL (pooler)), but your app permissions on worker are operate, view, and moving DATABASE, JOBS_POOL (pooler) needs deploy (or manage). Ask a team admin to grant it (`heroku access:update ana@example.com --app worker --permissions operate,view,deploy`), or detach it first: `heroku addons:detach DATABASE --app worker`, `heroku addons:detach JOBS_POOL --app worker`.'],
    ])
    // The recovering app itself: deploy without operate cannot turn its maintenance on.
    const own = estate({permissions: {shop: ['deploy', 'view']}, email: 'ana@example.com'})
    assert.deepEqual(blocking(estateChecks(own, planEstate(own, input()))).map(c => c.detail), [
      'your app permissions on shop are deploy, view, and turning maintenance mode on needs operate (or manage); scaling worker to 0 needs operate (or manage). Ask a team admin to grant it: `heroku access:update ana@example.com --app shop --permissions deploy,view,operate`.',
    ])
    // In place, without maintenance or scaling, nothing of reports is changed: view is enough.
    const quiet = {promoteAs: undefined, maintenance: false, scaleDownWorkers: false, own: {maintenance: false, alreadyOn: false, formation: []}}
    assert.deepEqual(blocking(estateChecks(team, planEstate(team, input(quiet)))), [])
    // manage grants all of it; permissions not listed (a personal app, an admin) are not known to lack anything.
    const managed = estate({permissions: {reports: ['manage', 'view'], worker: ['manage']}})
    assert.deepEqual(blocking(estateChecks(managed, planEstate(managed, input()))), [])
    assert.deepEqual(planEstate(team, input()).apps.map(a => [a.app, a.permissions]), [['shop', undefined], ['reports', ['view']], ['worker', ['operate', 'view']]])
  })

  it('the commands that point an attachment at a database keep it a pooler when it was one', () => {
    assert.equal(moveCommand({app: 'worker', name: 'DATABASE', namespace: null}, 'postgresql-old-1'), 'heroku addons:attach postgresql-old-1 --as DATABASE --app worker --confirm worker')
    assert.equal(moveCommand({app: 'worker', name: 'JOBS_POOL', namespace: POOL}, 'postgresql-old-1'), 'heroku addons:detach JOBS_POOL --app worker && heroku pg:connection-pooling:attach postgresql-old-1 --as JOBS_POOL --app worker')
  })
})

describe('db:reconcile: who may still write to OLD', () => {
  const attached = [
    {name: 'HEROKU_POSTGRESQL_RED', app: {name: 'shop'}}, {name: 'SHOP_POOL', app: {name: 'shop'}},
    {name: 'DATABASE', app: {name: 'worker'}}, {name: 'DATABASE', app: {name: 'shop'}},
  ]

  it('every attachment but the kept alias --from names, on any app, under any name', () => {
    assert.deepEqual(writersOf(attached, 'shop', 'HEROKU_POSTGRESQL_RED').map(a => `${a.app.name} ${a.name}`), ['shop SHOP_POOL', 'worker DATABASE', 'shop DATABASE'])
    assert.deepEqual(writersOf(attached.slice(0, 1), 'shop', 'HEROKU_POSTGRESQL_RED'), [])
  })

  it('DATABASE is never the kept alias', () => {
    assert.deepEqual(writersOf([{name: 'DATABASE', app: {name: 'shop'}}], 'shop', 'DATABASE').map(a => a.name), ['DATABASE'])
  })
})

describe('the estate after a run', () => {
  const plan = planEstate(estate(), input())
  const outcomeOf = (done: string[], results: Record<string, unknown>, status: RunOutcome['status'] = 'failed'): RunOutcome => {
    const outcome = {
      run: 'r', status, steps: done.map(id => ({id, title: id, state: 'done' as const})), finish: [], undo: [], log: '/tmp/shop/r.jsonl', durationMs: 1,
    }
    return Object.defineProperty(outcome, 'result', {value: (id: string) => results[id]}) as unknown as RunOutcome
  }
  const moved = (app: string, name: string, namespace: string | null) => ({app, name, namespace, to: 'postgresql-new-2'})

  it('a run stopped after the promote says which app is on which database, and how to finish the move', () => {
    const outcome = outcomeOf(['promote', 'reattach:shop:SHOP_POOL', 'reattach:reports:REPORTING_DB'], {
      'reattach:shop:SHOP_POOL': moved('shop', 'SHOP_POOL', POOL), 'reattach:reports:REPORTING_DB': moved('reports', 'REPORTING_DB', null),
    })
    assert.deepEqual(estateOutcome(plan, outcome), {
      moved: [
        {...moved('shop', 'SHOP_POOL', POOL), back: 'heroku addons:detach SHOP_POOL --app shop && heroku pg:connection-pooling:attach postgresql-old-1 --as SHOP_POOL --app shop'},
        {...moved('reports', 'REPORTING_DB', null), back: 'heroku addons:attach postgresql-old-1 --as REPORTING_DB --app reports --confirm reports'},
      ],
      notMoved: [{app: 'worker', name: 'DATABASE', namespace: null}, {app: 'worker', name: 'JOBS_POOL', namespace: POOL}],
      stillOnOld: null,
    })
    assert.deepEqual(estateUnfinished(plan, outcome, 'postgresql-new-2', true), [
      'The apps are split: postgresql-new-2 (the recovered database) serves shop DATABASE, shop SHOP_POOL, reports REPORTING_DB; postgresql-old-1 (the old one) still serves worker DATABASE, worker JOBS_POOL.',
      'To finish moving them to the recovered database:',
      '  heroku addons:attach postgresql-new-2 --as DATABASE --app worker --confirm worker',
      '  heroku addons:detach JOBS_POOL --app worker && heroku pg:connection-pooling:attach postgresql-new-2 --as JOBS_POOL --app worker',
    ])
    assert.deepEqual(estateUnfinished(plan, outcome, 'postgresql-new-2', false), [], 'before the promote every app is on the old database, as before')
  })

  it('a finished run lists what moved and what the read-back found', () => {
    const ids = ['reattach:shop:SHOP_POOL', 'reattach:reports:REPORTING_DB', 'reattach:worker:DATABASE', 'reattach:worker:JOBS_POOL']
    const results = Object.fromEntries(ids.map(id => [id, moved(id.split(':')[1], id.split(':')[2], id.endsWith('POOL') ? POOL : null)]))
    const outcome = outcomeOf(['promote', ...ids, 'estate-check'], {...results, 'estate-check': {remaining: [{app: 'shop', name: 'HEROKU_POSTGRESQL_RED', namespace: null}, {app: 'reports', name: 'ANALYST', namespace: 'credential:analyst'}]}}, 'succeeded')
    assert.deepEqual(estateClosing(plan, outcome), [
      'Moved to the new database: shop SHOP_POOL, reports REPORTING_DB, worker DATABASE, worker JOBS_POOL.',
      'Read back: only shop HEROKU_POSTGRESQL_RED, reports ANALYST still reach postgresql-old-1; nothing else reaches it.',
      'Also quieted and put back: worker.',
    ])
  })
})
