import { describe, expect, it } from 'vitest';
import { didYouMean } from './suggest';

describe('didYouMean', () => {
  it('finds slips of the keyboard: a letter missing, two swapped, a vendor prefix typo', () => {
    expect(didYouMean('contextBank', ['contextBanks', 'streamMatchRegisters'])).toBe('contextBanks');
    expect(didYouMean('sco', ['soc', 'pcie0'])).toBe('soc');
    expect(didYouMean('smmu_sat', ['smmu_sata', 'smmu_usb'])).toBe('smmu_sata');
    expect(didYouMean('calxeda,hb-achi', ['calxeda,hb-ahci', 'calxeda,hb-xgmac'])).toBe('calxeda,hb-ahci');
    expect(didYouMean('Profile', ['profile', 'arch'])).toBe('profile');
  });

  it('suggests nothing for another word altogether', () => {
    expect(didYouMean('nowhere', ['soc', 'pcie0'])).toBeUndefined();
    expect(didYouMean('x', ['y'])).toBeUndefined();
    expect(didYouMean('colour', ['name', 'bus', 'base'])).toBeUndefined();
    expect(didYouMean('soc', [])).toBeUndefined();
  });
});
