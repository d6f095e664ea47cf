# Frozen into the SQN_TESTBOARD firmware, as a board's firmware carries it: the Python
# half of the module (it replaces the firmware's own sqnsupgrade.py of the same name).
module("sqnsupgrade.py", base_path="$(BOARD_DIR)/../../../python_shim")
