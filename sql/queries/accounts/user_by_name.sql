-- One account by its user name (login, password changes). Not scoped: accounts are not
-- graduates' data, and only the accounts module reads them.
select * from users where username = $username
