import { ApprovalPolicy } from './approval-policy';

describe(ApprovalPolicy.name, () => {
  const policy = new ApprovalPolicy([
    { name: 'tasks', requireApproval: { tools: ['delete_task'] } },
    { name: 'mail', requireApproval: 'always' },
    { name: 'files', requireApproval: 'never' },
    { name: 'search' },
  ]);

  it('asks for the listed tools of a server, and only those', () => {
    expect(policy.needsApproval('tasks', 'delete_task')).toBe(true);
    expect(policy.needsApproval('tasks', 'list_tasks')).toBe(false);
  });

  it('asks for every tool of an "always" server', () => {
    expect(policy.needsApproval('mail', 'send_mail')).toBe(true);
    expect(policy.needsApproval('mail', 'list_mail')).toBe(true);
  });

  it('asks for nothing on a "never" server, one configured without require_approval, or an unknown one', () => {
    expect(policy.needsApproval('files', 'delete_file')).toBe(false);
    expect(policy.needsApproval('search', 'search')).toBe(false);
    expect(policy.needsApproval('elsewhere', 'delete_task')).toBe(false);
  });

  it('matches the tool name of the server, not a name listed for another server', () => {
    expect(policy.needsApproval('files', 'delete_task')).toBe(false);
  });
});
