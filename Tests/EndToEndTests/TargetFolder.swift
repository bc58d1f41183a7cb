// Tests of this target arrive with the module they test; the file keeps the target's folder in git.
