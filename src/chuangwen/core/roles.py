"""Roles a person holds on a unit. The codes are stored; the labels are what people read."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    LEADER = "leader", "局领导"
    OFFICE = "office", "创文办"
    DEPT_HEAD = "dept_head", "科室负责人"
    INSPECTOR = "inspector", "督查员"
    SCHOOL_HEAD = "school_head", "学校一把手"
    LIAISON = "liaison", "创文联络员"
    ARCHIVIST = "archivist", "资料员"
    TEACHER = "teacher", "班主任/教师"


# Roles that belong to the bureau (or a district office) rather than to one school.
BUREAU_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR})
SCHOOL_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER})
# Roles allowed to change unit and school records and to import them.
UNIT_MANAGER_ROLES = frozenset({Role.ADMIN, Role.OFFICE})
# School roles allowed to maintain their own school's classes.
CLASS_MANAGER_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON})
