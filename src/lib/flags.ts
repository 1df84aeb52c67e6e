import {Flags, flags} from './heroku.js'

// The flags every guarded command shares, each with one description, spread into a command's `flags`.

export const appFlags = {
  app: flags.app({required: true}),
  remote: flags.remote(),
}

export const guardFlags = {
  confirm: Flags.string({description: 'the app name, to go ahead without being asked (for scripts and CI)'}),
  'dry-run': Flags.boolean({description: 'run every check and show the plan; change nothing'}),
}

export const backupFlags = {
  'max-backup-age': Flags.string({description: 'the newest successful backup of each database must be younger than this', default: '24h'}),
  'capture-backup': Flags.boolean({description: 'capture a fresh backup first (after the confirmation) of each database whose newest one is too old', exclusive: ['skip-backup-check']}),
  'skip-backup-check': Flags.boolean({description: 'do not require a recent backup (not recommended)'}),
}

// How long waits for work at Heroku may take, with the command's own default.
export const waitTimeoutFlag = (fallback: string) =>
  ({'wait-timeout': Flags.string({description: 'how long to wait for work at Heroku to finish (and for each request)', default: fallback})})

// Where the run's events go for the people following the incident (src/lib/notify).
export const notifyFlag = {
  notify: Flags.string({
    description: 'tell pagerduty, slack, datadog or an http(s):// URL when the run starts, is refused and ends (repeatable; default: HEROKU_SAFE_ROLLBACK_NOTIFY, comma-separated; none: nobody)',
    multiple: true,
  }),
}

// The health watch (src/lib/health/): how long, how much traffic, how many errors, what to probe.
export const healthFlags = {
  'health-window': Flags.string({description: 'how long to watch the app\'s requests after the change (5s-30m), from when its dynos are up (with preboot, from when traffic switches)', default: '2m'}),
  'min-requests': Flags.integer({description: 'fewer requests than this in the window: too little traffic to tell (inconclusive)', default: 30, min: 1}),
  'max-error-rate': Flags.string({description: 'the most requests that may fail, in percent (a 5xx, or a router error such as H12), for a healthy verdict', default: '2'}),
  'health-url': Flags.string({description: 'also probe this URL every few seconds: a non-2xx answer or none in 10 s counts as a failure'}),
}

const WATCH_FLAGS = Object.keys(healthFlags)

// What a command that changes the app does with the watch.
export const changeHealthFlags = {
  ...healthFlags,
  'skip-health-check': Flags.boolean({
    description: 'do not watch the app\'s health after the change (no log session is opened); for apps without traffic to judge (a review app, CI)',
    env: 'HEROKU_SAFE_ROLLBACK_SKIP_HEALTH_CHECK', exclusive: [...WATCH_FLAGS, 'on-unhealthy'],
  }),
  'on-unhealthy': Flags.string({description: 'after an unhealthy verdict: stop (exit non-zero, with the command that undoes the change) or undo (undo it, watch again, exit non-zero)', options: ['stop', 'undo'], default: 'stop'}),
}
