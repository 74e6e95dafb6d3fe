import { checkAdminToken } from '../../src/server/admin-token';

describe('checkAdminToken', () => {
  test.each(['change-me', 'Change-Me', ' s3cret '])('refuses the docs example %j with CONFIG_INVALID naming adminToken', (token) => {
    expect(() => checkAdminToken(token)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'adminToken' } }));
  });

  test('accepts a token of its own, and no token at all', () => {
    expect(() => checkAdminToken('9c1f0e6d2b7a4c38a5e1f0d2')).not.toThrow();
    expect(() => checkAdminToken(undefined)).not.toThrow();
  });
});
