/**
 * The event pattern matcher and its check, table-driven over the examples of AWS's "Event patterns"
 * and "Content filtering" pages (the EC2 state-change event and the examples' fields).
 */
import { describe, expect, it } from 'vitest';
import { checkSpec } from '../../src/core/validate.js';
import { checkEventPattern, eventPatternProblems, matchesPattern } from '../../src/events/pattern.js';

const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    FileName: 'photo.png',
    FilePath: '/usr/lib/libc.so',
    EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/main',
    responseElements: null,
    eventVersion: '',
    items: [
      { kind: 'a', size: 1 },
      { kind: 'b', size: 20 },
    ],
    tags: ['blue', 'green'],
  },
};

const cases: [string, Record<string, unknown>, boolean][] = [
  ['exact source', { source: ['aws.ec2'] }, true],
  ['exact, other value', { source: ['aws.s3'] }, false],
  ['any of a list', { source: ['aws.s3', 'aws.ec2'] }, true],
  ['nested', { 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } }, true],
  ['nested, no match', { detail: { state: ['running', 'pending'] } }, false],
  ['every key must match', { source: ['aws.ec2'], detail: { state: ['running'] } }, false],
  ['missing field', { detail: { nothing: ['x'] } }, false],
  ['number exact', { detail: { 'c-count': [5] } }, true],
  ['number is not a string', { detail: { 'c-count': ['5'] } }, false],
  ['null', { detail: { responseElements: [null] } }, true],
  ['empty string', { detail: { eventVersion: [''] } }, true],
  ['event array: any element', { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0', 'x'] }, true],
  ['event array: none', { detail: { tags: ['red'] } }, false],
  ['event array: one of', { detail: { tags: ['green'] } }, true],
  ['array of maps', { detail: { items: { kind: ['b'], size: [20] } } }, true],
  ['array of maps: one element must match all', { detail: { items: { kind: ['a'], size: [20] } } }, false],
  ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix, no', { time: [{ prefix: '2018' }] }, false],
  ['prefix ignoring case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, true],
  ['suffix', { detail: { FileName: [{ suffix: '.png' }] } }, true],
  ['suffix, no', { detail: { FileName: [{ suffix: '.jpg' }] } }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] } }, true],
  ['prefix on a number', { detail: { 'c-count': [{ prefix: '5' }] } }, false],
  ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but the value', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
  ['anything-but a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, true],
  ['anything-but a list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true],
  ['anything-but a list with it', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, false],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, true],
  ['anything-but prefix, no', { detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, false],
  ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, true],
  [
    'anything-but ignoring case',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'TERMINATED'] } }] } },
    false,
  ],
  ['anything-but wildcard', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false],
  ['anything-but needs the field', { detail: { absent: [{ 'anything-but': 'x' }] } }, false],
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  ['numeric below', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, true],
  ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, true],
  ['numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['exists true', { detail: { state: [{ exists: true }] } }, true],
  ['exists true, missing', { detail: { nothing: [{ exists: true }] } }, false],
  ['exists false, missing', { detail: { nothing: [{ exists: false }] } }, true],
  ['exists false, present', { detail: { state: [{ exists: false }] } }, false],
  ['exists under a missing map', { nothing: { deeper: [{ exists: false }] } }, true],
  ['exists or a value', { detail: { nothing: [{ exists: false }, 'x'] } }, true],
  ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, true],
  ['equals-ignore-case, no', { 'detail-type': [{ 'equals-ignore-case': 'ec2' }] }, false],
  ['wildcard', { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] } }, true],
  ['wildcard, no', { detail: { EventBusArn: [{ wildcard: 'arn:aws:events:us-west-2:*' }] } }, false],
  ['wildcard, whole value', { detail: { FileName: [{ wildcard: 'photo' }] } }, false],
  ['wildcard, escaped star', { detail: { FileName: [{ wildcard: 'photo\\*png' }] } }, false],
  ['or of matchers', { time: [{ prefix: '2016' }, { suffix: '48Z' }] }, true],
];

describe('matchesPattern', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    expect(eventPatternProblems(pattern)).toEqual([]);
    expect(matchesPattern(pattern, ec2)).toBe(expected);
  });

  it('escaped stars are literal and wildcards backtrack', () => {
    expect(matchesPattern({ a: [{ wildcard: 'x\\*y' }] }, { a: 'x*y' })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: '*a*b' }] }, { a: 'aaab' })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: '*a*b' }] }, { a: 'aaa' })).toBe(false);
    const long = 'a'.repeat(50_000);
    expect(matchesPattern({ a: [{ wildcard: '*a*a*a*a*a*a*b' }] }, { a: long })).toBe(false);
  });
});

const malformed: [string, unknown, RegExp][] = [
  ['not a map', ['aws.ec2'], /non-empty map/],
  ['empty', {}, /non-empty map/],
  ['a bare value', { source: 'aws.ec2' }, /^source: must be a list/],
  ['an empty list', { source: [] }, /^source: an empty list/],
  ['a matcher outside a list', { detail: { state: { prefix: 'x' } } }, /^detail\.state: a matcher must be inside a list/],
  ['unknown matcher', { source: [{ contains: 'x' }] }, /^source\.0: unknown matcher "contains"/],
  ['two keys', { source: [{ prefix: 'a', suffix: 'b' }] }, /^source\.0: a matcher map has exactly one key/],
  ['prefix not a string', { source: [{ prefix: 1 }] }, /^source\.0\.prefix: must be a string/],
  ['numeric bad operator', { n: [{ numeric: ['!=', 1] }] }, /^n\.0\.numeric: unknown operator "!="/],
  ['numeric no number', { n: [{ numeric: ['>', '1'] }] }, /needs a number/],
  ['numeric odd length', { n: [{ numeric: ['>', 1, '<'] }] }, /one or two/],
  ['numeric range order', { n: [{ numeric: ['<', 1, '>', 0] }] }, /lower bound/],
  ['numeric empty range', { n: [{ numeric: ['>', 5, '<', 1] }] }, /below its upper bound/],
  ['exists not boolean', { d: { x: [{ exists: 'yes' }] } }, /^d\.x\.0\.exists: must be true or false/],
  ['anything-but mixed list', { s: [{ 'anything-but': ['a', 1] }] }, /list of strings or a list of numbers/],
  ['anything-but unknown', { s: [{ 'anything-but': { numeric: ['>', 1] } }] }, /anything-but: must be/],
  ['wildcard **', { s: [{ wildcard: 'a**b' }] }, /consecutive/],
  ['equals-ignore-case number', { s: [{ 'equals-ignore-case': 1 }] }, /must be a string/],
];

describe('eventPatternProblems', () => {
  it.each(malformed)('%s', (_name, pattern, message) => {
    const lines = eventPatternProblems(pattern).map((p) => `${p.path.join('.')}: ${p.message}`.replace(/^: /, ''));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(message);
  });

  it('checkEventPattern names the path in its error', () => {
    expect(() => checkEventPattern({ detail: { state: 'x' } })).toThrow(/event_pattern\.detail\.state: must be a list/);
  });

  it('trigger specs with a malformed event_pattern fail lava check, naming the path', () => {
    const base = { trigger_id: 'r', job_id: 'j', enabled: true };
    expect(checkSpec('trigger', { ...base, event_pattern: { source: ['aws.ec2'] } }).errors).toEqual([]);
    const { errors } = checkSpec('trigger', { ...base, event_pattern: { detail: { n: [{ numeric: ['>', 'x'] }] } } });
    expect(errors).toEqual([expect.stringMatching(/^event_pattern\.detail\.n\.0\.numeric: ">" needs a number/)]);
  });
});
