import { EMOTIONS } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { prosodyFor } from './presets.js';

describe('voice presets', () => {
  it("keeps the seed's six presets", () => {
    expect(prosodyFor('happy')).toMatchObject({ rate: '+5%', volume: '+5%' });
    expect(prosodyFor('excited')).toMatchObject({ rate: '+10%', volume: '+10%' });
    expect(prosodyFor('sulking')).toMatchObject({ rate: '-5%', volume: '-5%' });
    expect(prosodyFor('angry')).toMatchObject({ rate: '+0%', volume: '+10%' });
    expect(prosodyFor('shy')).toMatchObject({ rate: '-10%', volume: '-10%' });
    expect(prosodyFor('neutral')).toMatchObject({ rate: '+0%', volume: '+0%' });
  });

  it('gives every emotion a valid SSML prosody', () => {
    for (const emotion of EMOTIONS) {
      const { rate, volume, pitch } = prosodyFor(emotion);
      expect(rate).toMatch(/^[+-]\d+%$/);
      expect(volume).toMatch(/^[+-]\d+%$/);
      expect(pitch).toMatch(/^[+-]\d+Hz$/);
    }
  });
});
