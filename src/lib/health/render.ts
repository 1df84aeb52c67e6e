import type {View} from '../plan.js'
import {checksSection, stepList, upperFirst} from '../render/index.js'
import {runJson} from '../runner/report.js'
import type {RunOutcome} from '../runner/runner.js'
import {counts} from './kinds.js'
import {windowText} from './rules.js'
import type {Health} from './verdict.js'
import type {VerifyPlan} from './verify.js'

// The verdict as people and scripts read it: the numbers it rests on, never a session URL.

// `health` in --json: percent rates, codes by count, the window in ms.
export function healthJson(health: Health | undefined) {
  if (!health) return null
  const {verdict, reason, requests, errors, errorRate, codes, crashedDynos, windowMs, url} = health
  return {verdict, reason, requests, errors, errorRate, codes, crashedDynos, windowMs, ...(url ? {url} : {})}
}

// The verdict and its numbers, a line each.
export function describeHealth(health: Health, expected?: number): string[] {
  return [
    `${upperFirst(health.verdict)}: ${health.reason}.`,
    `  ${counts(health)}; ${health.crashedDynos.length > 0 ? `crashed: ${health.crashedDynos.join(', ')}` : 'no dyno crashed'}.`,
    ...(health.url ? [`  --health-url: ${health.url.probes} probe${health.url.probes === 1 ? '' : 's'}, ${health.url.failures} failed${
      health.url.wrongRelease ? `; it answered ${health.url.wrongRelease}${expected === undefined ? '' : `, not v${expected}`}` : ''}.`] : []),
  ]
}

// What a verdict that is not a clear yes leaves to the engineer (said on stderr).
export function healthWarnings(app: string, health: Health | undefined, expected?: number): string[] {
  if (!health) return []
  return [
    ...(health.verdict === 'inconclusive' ? [`Inconclusive: ${health.reason}. That is not enough to call ${app} healthy: check its metrics, or watch longer with --health-window.`] : []),
    ...(health.url?.wrongRelease ? [`--health-url answered as ${health.url.wrongRelease}${expected === undefined ? '' : ` while ${app} runs v${expected}`}: old code still serves some requests (preboot, or dynos not restarted yet).`] : []),
  ]
}

const watched = (outcome: RunOutcome) => outcome.result<Health>('watch')

export const verifyView: View<VerifyPlan> = {
  preview: ({app, facts, rules, healthUrl, checks}, steps) => [
    `Watching ${app}${facts.current ? ` (v${facts.current.version}, ${facts.current.description})` : ''} for ${windowText(rules.windowMs)}: healthy takes at least ${rules.minRequests} requests and at most ${rules.maxErrorRate}% failing (a 5xx, or a router error such as H10 or H12; H80 of maintenance mode is not counted); a crashed dyno is unhealthy at once.`,
    ...(healthUrl ? [`Probing ${healthUrl} every 5 s: a non-2xx answer, or none in 10 s, is a failure; 3 in a row are unhealthy.`] : []),
    '',
    ...checksSection(checks),
    '',
    'Steps:',
    ...stepList(steps),
  ].join('\n'),
  warnings: ({app, facts}) => facts.maintenance ? [`${app} is in maintenance mode: the router answers H80, which the watch does not count; expect too few requests for a verdict.`] : [],
  closing: ({facts}, outcome) => `\n${describeHealth(watched(outcome)!, facts.current?.version).join('\n')}`,
  afterwards: ({app, facts}, outcome) => healthWarnings(app, watched(outcome), facts.current?.version),
  json: ({app, facts, rules, healthUrl, checks}, steps, outcome) => ({
    app, release: facts.current ? `v${facts.current.version}` : null, rules, healthUrl: healthUrl ?? null, checks, steps: steps.map(s => s.title),
    health: outcome ? healthJson(watched(outcome)) : null,
    run: outcome && runJson(outcome),
  }),
}
