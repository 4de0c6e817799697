import { describe, expect, it } from 'vitest';
import { LearnerProfile } from '../events.js';
import { factsFromMessage, mergeFacts } from './profile.js';

describe('factsFromMessage', () => {
  it.each([
    ['我叫阿明。', '阿明'],
    ['我叫阿明', '阿明'],
    ['你好！我叫阿明，我是越南人。', '阿明'],
    ['我的名字是小龙', '小龙'],
    ['我的名字叫小龙。', '小龙'],
    ['tên tôi là Minh', 'Minh'],
    ['Xin chào, tên tôi là Minh.', 'Minh'],
    ['Tên em là Lan', 'Lan'],
  ])('reads the name in %s', (message, name) => {
    expect(factsFromMessage(message).name).toBe(name);
  });

  it('reads no name from a question about a name', () => {
    expect(factsFromMessage('你叫什么名字？').name).toBeUndefined();
    expect(factsFromMessage('你叫什么名字？')).toEqual({});
    expect(factsFromMessage('你知道我叫什么吗？').name).toBeUndefined();
    expect(factsFromMessage('今天天气很好。')).toEqual({});
  });

  it('reads an interest, cut at the next one', () => {
    expect(factsFromMessage('我喜欢练剑和喝茶')).toEqual({ interests: ['练剑'] });
    expect(factsFromMessage('我很喜欢喝茶。')).toEqual({ interests: ['喝茶'] });
    expect(factsFromMessage('我叫阿明，我喜欢练剑。')).toEqual({ name: '阿明', interests: ['练剑'] });
    expect(factsFromMessage('我喜欢你').interests).toBeUndefined();
    expect(factsFromMessage('你喜欢什么？').interests).toBeUndefined();
  });
});

describe('mergeFacts', () => {
  const empty = LearnerProfile.parse({});

  it('keeps the latest name', () => {
    const first = mergeFacts(empty, { name: '阿明' });
    expect(first.name).toBe('阿明');
    expect(mergeFacts(first, { name: '小龙' }).name).toBe('小龙');
    expect(mergeFacts(first, {}, null, undefined, { interests: ['茶'] }).name).toBe('阿明');
    expect(mergeFacts(empty, { name: 'A' }, { name: 'B' }).name).toBe('B');
  });

  it('keeps at most five interests, the most recent, without duplicates', () => {
    let profile = empty;
    for (const interest of ['练剑', '喝茶', '看书', '唱歌', '跑步', '做饭', '画画']) {
      profile = mergeFacts(profile, { interests: [interest] });
    }
    expect(profile.interests).toEqual(['看书', '唱歌', '跑步', '做饭', '画画']);
    // Mentioned again: moves to the end, not listed twice.
    profile = mergeFacts(profile, { interests: ['看书'] });
    expect(profile.interests).toEqual(['唱歌', '跑步', '做饭', '画画', '看书']);
    expect(mergeFacts(empty, { interests: ['a', 'b', 'c'] }, { interests: ['d', 'e', 'f'] }).interests).toHaveLength(5);
  });

  it('leaves the rest of the profile as it was', () => {
    const profile = LearnerProfile.parse({
      name: '阿明',
      turns_folded: 4,
      mistakes: [{ wrong: 'x', right: 'y', count: 2 }],
    });
    expect(mergeFacts(profile, null)).toEqual(profile);
    expect(mergeFacts(profile, { interests: [''] })).toEqual(profile);
  });
});
