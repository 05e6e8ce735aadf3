# Tests: cmocka unit tests (make check), plugin fixtures, system tests
# (make check-system, root).
