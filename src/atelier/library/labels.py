"""The zero-shot vocabulary: what a CLIP model is asked to recognise, in English and Chinese."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    en: str
    zh: str


_PAIRS = """
person 人物 | man 男人 | woman 女人 | child 儿童 | baby 婴儿 | group of people 人群 |
portrait 肖像 | selfie 自拍 | cat 猫 | dog 狗 | bird 鸟 | horse 马 | fish 鱼 | insect 昆虫 |
wild animal 野生动物 | flower 花 | tree 树 | forest 森林 | grass 草地 | mountain 山 |
beach 海滩 | sea 大海 | lake 湖泊 | river 河流 | waterfall 瀑布 | desert 沙漠 | snow 雪 |
sky 天空 | clouds 云 | sunset 日落 | night sky 夜空 | rain 雨 | city 城市 | street 街道 |
building 建筑 | skyscraper 摩天大楼 | house 房屋 | bridge 桥 | temple 寺庙 | church 教堂 |
interior room 室内 | kitchen 厨房 | bedroom 卧室 | office 办公室 | car 汽车 | bicycle 自行车 |
motorcycle 摩托车 | bus 公交车 | train 火车 | airplane 飞机 | boat 船 | food 食物 |
dessert 甜点 | fruit 水果 | drink 饮料 | coffee 咖啡 | computer 电脑 | phone 手机 |
book 书 | toy 玩具 | clothing 服装 | shoes 鞋子 | sports 运动 | football 足球 |
music 音乐 | painting 绘画 | drawing 素描 | anime 动漫 | cartoon 卡通 | manga 漫画 |
3d render 三维渲染 | pixel art 像素艺术 | screenshot 截图 | document 文档 | text 文字 |
chart 图表 | map 地图 | logo 标志 | poster 海报 | meme 表情包 | wedding 婚礼 |
party 聚会 | festival 节日 | christmas 圣诞节 | chinese new year 春节 | landscape 风景 |
macro photo 微距 | black and white photo 黑白照片 | vintage photo 老照片
"""

DEFAULT_LABELS: tuple[Label, ...] = tuple(
    Label(*item.strip().rsplit(" ", 1)) for item in _PAIRS.split("|") if item.strip()
)
