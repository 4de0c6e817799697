import type { LearnerProfile } from '../events.js';
import type { LearnerFacts } from '../reply.js';

const MAX_INTERESTS = 5;

/** Words that end a name or an interest: particles, conjunctions, punctuation. */
const STOP = /[，。！？、,.!?;；:：\s]|吧|呢|啊|呀|哦|和|也|的时候/u;

function cut(text: string, max: number): string | undefined {
  const stop = text.search(STOP);
  const head = (stop === -1 ? text : text.slice(0, stop)).slice(0, max).trim();
  return head.length > 0 ? head : undefined;
}

const NAME_PATTERNS = [
  /我叫(.{1,12})/u,
  /我的名字(?:是|叫)(.{1,12})/u,
  /叫我(.{1,12})/u,
  /\btên (?:tôi|em|anh|huynh|ta) là\s+(.{1,24})/iu,
  /\bmy name is\s+(.{1,24})/iu,
];
const INTEREST_PATTERNS = [
  /我(?:很|也|最|非常|特别)?(?:喜欢|爱好是|爱)(.{1,10})/u,
  /(?:tôi|em|huynh) thích\s+(.{1,24})/iu,
];

/**
 * What a learner's message says about them, read without an LLM: their name ("我叫阿明") and
 * what they like ("我喜欢练剑"). Enough for the offline tutor; the LLM adds its own notes.
 */
export function factsFromMessage(text: string): LearnerFacts {
  const message = text.normalize('NFC');
  const facts: LearnerFacts = {};
  for (const pattern of NAME_PATTERNS) {
    const found = pattern.exec(message)?.[1];
    const name = found ? cut(found, 12) : undefined;
    if (name && !/^(什么|谁|啥)/u.test(name)) {
      facts.name = name;
      break;
    }
  }
  for (const pattern of INTEREST_PATTERNS) {
    const found = pattern.exec(message)?.[1];
    const interest = found ? cut(found, 12) : undefined;
    if (interest && !/^(你|什么)/u.test(interest)) facts.interests = [interest];
  }
  return facts;
}

/** The profile with new facts in: the latest name wins, interests keep the most recent five. */
export function mergeFacts(profile: LearnerProfile, ...facts: (LearnerFacts | null | undefined)[]): LearnerProfile {
  let { name, interests } = profile;
  for (const fact of facts) {
    if (!fact) continue;
    if (fact.name) name = fact.name;
    for (const interest of fact.interests ?? []) {
      if (interest.length === 0) continue;
      interests = [...interests.filter((i) => i !== interest), interest].slice(-MAX_INTERESTS);
    }
  }
  return { ...profile, ...(name ? { name } : {}), interests };
}
