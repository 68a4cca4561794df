import { describe } from 'vitest'
import { MemoryStore } from '../../src/index.js'
import { rateScenarios } from '../support/ratelimit-scenarios.js'

describe('rate limiter on the memory store', () => {
  rateScenarios(() => new MemoryStore())
})
