import {Sandbox} from '../../src/sandbox/index.js'

let current: Sandbox | undefined
let counter = 0

export async function startSandbox() {
  current ??= await Sandbox.start({delays: {transfer: 150, releasePhase: 300, dynoBoot: 200, provision: 300}})
}

export async function stopSandbox() {
  await current?.stop()
  current = undefined
}

export function sandbox(): Sandbox {
  if (!current) throw new Error('The sandbox starts in test/hooks.ts before any test.')
  return current
}

// A fresh app name per test, so tests never see each other's state.
export const appName = (prefix = 'app') => `${prefix}-${process.pid % 1000}-${++counter}`
