import { decisionOf, deniedText } from './tool-decisions';

describe(deniedText.name, () => {
  it('gives the model the reason the user gave, or none when it is blank', () => {
    expect(deniedText('keep it')).toBe('denied by the user: keep it');
    expect(deniedText(' keep it \n')).toBe('denied by the user: keep it');
    expect(deniedText('  ')).toBe('denied by the user');
    expect(deniedText(undefined)).toBe('denied by the user');
  });
});

describe(decisionOf.name, () => {
  it("reads only the decisions' own keys, never the prototype's", () => {
    const decisions = { toolu_1: { approved: true } };

    expect(decisionOf(decisions, 'toolu_1')).toEqual({ approved: true });
    expect(decisionOf(decisions, 'constructor')).toBeUndefined();
    expect(decisionOf(decisions, 'toString')).toBeUndefined();
  });
});
