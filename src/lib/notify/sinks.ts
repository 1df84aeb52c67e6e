import {createHash} from 'node:crypto'
import {type Notice, noticeLines} from './notice.js'

// Each place an event can go, and the request it gets: a PagerDuty change event, a Slack message, a
// Datadog change event, or a CloudEvents 1.0 JSON event for any webhook. Keys and URLs come from the
// environment (or --notify, for a webhook); none of them is ever printed or written to the run log.

export interface SinkRequest {
  url: string
  headers: Record<string, string>
  body: string
}

export interface Sink {
  // How messages name it: 'PagerDuty', 'the webhook at hooks.example.com'.
  label: string
  // How the run log names it: its kind and a hash of its endpoint and key, never the secret itself.
  key: string
  // What `recovery:log RUN --notify` takes to send to it again (a webhook's URL is not repeated).
  again: string
  // Whether it drops an event whose id it has seen: only then may an event whose answer was lost be sent again.
  dedupes: boolean
  // Its key and URL, hidden wherever they might show up.
  secrets: string[]
  // A hint for an answer that refuses its credentials (401, 403).
  credentials: string
  request(notice: Notice): SinkRequest
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 12)

const JSON_TYPE = 'application/json'

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/change/enqueue'

// The app's page on the dashboard, where a responder sees its releases.
const activity = (app: string) => `https://dashboard.heroku.com/apps/${encodeURIComponent(app)}/activity`

// The notice without what every sink carries in its own fields.
const details = ({summary: _summary, at: _at, ...rest}: Notice) => rest

function pagerduty(routingKey: string, url: string): Sink {
  return {
    label: 'PagerDuty', key: `pagerduty:${hash(url, routingKey)}`, again: 'pagerduty', dedupes: false,
    secrets: [routingKey], credentials: 'PAGERDUTY_ROUTING_KEY',
    // Events API v2, change events: https://developer.pagerduty.com/docs/events-api-v2/send-change-events/
    request: notice => ({
      url, headers: {'content-type': JSON_TYPE},
      body: JSON.stringify({
        routing_key: routingKey,
        payload: {summary: notice.summary.slice(0, 1024), source: notice.app, timestamp: notice.at, custom_details: details(notice)},
        links: [{href: activity(notice.app), text: `${notice.app} on the Heroku dashboard`}],
      }),
    }),
  }
}

// Slack's mrkdwn: these three are its control characters.
const slackText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function slack(url: string): Sink {
  return {
    label: 'Slack', key: `slack:${hash(url)}`, again: 'slack', dedupes: false, secrets: [url], credentials: 'SLACK_WEBHOOK_URL',
    // An incoming webhook: short and readable, the summary in bold, then what a responder acts on.
    request: notice => {
      const [summary, ...rest] = noticeLines(notice).map(slackText)
      return {url, headers: {'content-type': JSON_TYPE}, body: JSON.stringify({text: [`*${summary}*`, ...rest].join('\n')})}
    },
  }
}

function datadog(apiKey: string, url: string): Sink {
  return {
    label: 'Datadog', key: `datadog:${hash(url, apiKey)}`, again: 'datadog', dedupes: false, secrets: [apiKey], credentials: 'DD_API_KEY',
    // Events API v2, category `change`: https://docs.datadoghq.com/api/latest/events/#post-an-event
    request: notice => ({
      url, headers: {'content-type': JSON_TYPE, 'dd-api-key': apiKey},
      body: JSON.stringify({
        data: {
          type: 'event',
          attributes: {
            category: 'change', integration_id: 'custom-events',
            title: notice.summary.slice(0, 500), message: noticeLines(notice).slice(1).join('\n').slice(0, 4000),
            timestamp: notice.at, aggregation_key: notice.run,
            tags: ['source:heroku-safe-rollback', `app:${notice.app}`, `command:${notice.command}`, `run:${notice.run}`, `event:${notice.type}`, ...(notice.outcome ? [`outcome:${notice.outcome}`] : [])],
            attributes: {
              author: {name: notice.who, type: 'user'},
              changed_resource: {name: notice.app, type: 'configuration'},
              impacted_resources: [{name: notice.app, type: 'service'}],
              change_metadata: details(notice),
            },
          },
        },
      }),
    }),
  }
}

// CloudEvents 1.0, structured content mode: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md
function webhook(url: string): Sink {
  const {host} = new URL(url)
  return {
    label: `the webhook at ${host}`, key: `webhook:${hash(url)}`, again: '<its URL>', dedupes: true, secrets: [url], credentials: 'the URL',
    request: notice => ({
      url, headers: {'content-type': 'application/cloudevents+json; charset=utf-8'},
      body: JSON.stringify({
        specversion: '1.0', id: notice.id, source: `urn:heroku-safe-rollback:${notice.app}`, type: `heroku-safe-rollback.run.${notice.type}`,
        time: notice.at, subject: notice.app, datacontenttype: JSON_TYPE, data: notice,
      }),
    }),
  }
}

// The sink a target names, from the environment; or why it cannot be used here.
export function sinkFor(target: string, env: NodeJS.ProcessEnv): Sink | {problem: string} {
  switch (target) {
    case 'pagerduty': {
      const key = env.PAGERDUTY_ROUTING_KEY?.trim()
      if (!key) return {problem: '--notify pagerduty needs PAGERDUTY_ROUTING_KEY (the integration key of a PagerDuty service\'s Events API v2 integration): no event goes to PagerDuty.'}
      return pagerduty(key, env.PAGERDUTY_EVENTS_URL?.trim() || PAGERDUTY_URL)
    }
    case 'slack': {
      const url = env.SLACK_WEBHOOK_URL?.trim()
      if (!url) return {problem: '--notify slack needs SLACK_WEBHOOK_URL (an incoming webhook of the channel): no message goes to Slack.'}
      return slack(url)
    }
    case 'datadog': {
      const key = env.DD_API_KEY?.trim()
      if (!key) return {problem: '--notify datadog needs DD_API_KEY: no event goes to Datadog.'}
      const site = env.DD_SITE?.trim() || 'datadoghq.com'
      return datadog(key, env.DATADOG_EVENTS_URL?.trim() || `https://event-management-intake.${site}/api/v2/events`)
    }
    default:
      return webhook(target)
  }
}
