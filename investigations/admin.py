# Case files, memberships and activity are deliberately not registered in the Django admin:
# the admin would show every case file to any superuser, members or not.
