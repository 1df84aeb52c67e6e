import assert from 'node:assert/strict'
import {satisfiesCaret} from '../../src/lib/cli-modules.js'
import type {RecordedRequest} from '../../src/sandbox/index.js'
import {rounds, roundsBefore} from '../../src/sandbox/server/rounds.js'

describe('the CLI\'s modules', () => {
  it('are used only in versions our dependency ranges accept', () => {
    assert.ok(satisfiesCaret('13.2.0', '^13.2.0'))
    assert.ok(satisfiesCaret('13.10.1', '^13.2.0'))
    assert.ok(satisfiesCaret('4.14.2', '^4.14.0'))
    assert.ok(!satisfiesCaret('13.1.9', '^13.2.0'), 'older minor')
    assert.ok(!satisfiesCaret('14.0.0', '^13.2.0'), 'next major')
    assert.ok(!satisfiesCaret('12.9.0', '^13.2.0'), 'previous major')
    assert.ok(!satisfiesCaret('13.3.0-beta.1', '^13.2.0'), 'a prerelease')
    assert.ok(!satisfiesCaret('13.3.0', '~13.2.0'), 'a range form it does not read')
    assert.ok(!satisfiesCaret('0.5.0', '^0.5.0'), '0.x ranges')
  })
})

describe('rounds of requests', () => {
  const request = (path: string, at: number, done: number, method = 'GET') => ({method, path, at, done}) as RecordedRequest

  it('puts requests sent together in one round, and a request sent after an answer in the next', () => {
    const list = request('/apps/a/releases', 0, 150)
    const attachments = request('/apps/a/addon-attachments', 1, 151)
    // Sent late (a module loading) but before any answer: still the first round.
    const resolve = request('/actions/addon-attachments/resolve', 40, 190, 'POST')
    const config = request('/apps/a/releases/50/config-vars', 152, 302)
    const configVars = request('/apps/a/config-vars', 191, 341)
    const post = request('/apps/a/releases', 350, 500, 'POST')
    const grouped = rounds([config, list, resolve, attachments, configVars])
    assert.deepEqual(grouped, [[list, attachments, resolve], [config, configVars]])
    assert.equal(roundsBefore([list, attachments, resolve, config, configVars, post], r => r.method === 'POST' && r.path === '/apps/a/releases').length, 2)
  })

  it('counts a chain of dependent reads as that many rounds', () => {
    const chain = [0, 1, 2, 3].map(i => request(`/r/${i}`, i * 160, i * 160 + 150))
    assert.equal(rounds(chain).length, 4)
    assert.deepEqual(rounds([]), [])
  })
})
